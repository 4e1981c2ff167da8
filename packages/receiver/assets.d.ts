/** The bundled page (`npm run build` writes it). */
export declare const APP_DIR: string;
/** onnxruntime-web's dist folder (its wasm runtime and loader), served under /ort/. */
export declare const ORT_DIR: string;
