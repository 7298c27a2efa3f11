// Deployment: a trained model outside senet (ONNX files, an HTTP service...). `import { deploy } from 'senet'`.
export * from './onnx/index.js';
export * from './serve/index.js';
