// Deployment: a trained model outside senet (ONNX files, ...). `import { deploy } from 'senet'`.
export * from './onnx/index.js';
