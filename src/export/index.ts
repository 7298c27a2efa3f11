// Deployment: a trained model outside senet (ONNX files, a browser page, an HTTP service). `import { deploy } from 'senet'`.
export * from './onnx/index.js';
export * from './web/index.js';
export * from './serve/index.js';
