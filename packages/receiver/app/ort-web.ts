/**
 * onnxruntime-web as a bundle of its own (`ort-web.js`), which the decode worker imports only for a
 * session of the patches engine (worker.ts `loadOrt`).
 */
export * as ortWeb from 'onnxruntime-web/wasm';
