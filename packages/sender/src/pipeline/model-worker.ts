// The frame pipeline's worker thread: the detector, the fusion and the patch encoders on onnxruntime-node, so
// their synchronous runs (20–60 ms per frame) never stall the main thread's event loop, where werift's
// SCTP timers and the signalling sockets live. Requests come one at a time per kind from
// `WorkerModels`; every answer carries the request's id.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCodecs, setOrtSpinning } from '../models.js';
import { InlineModels } from './frame-pipeline.js';
import { loadPipelineRelevance } from './pipeline-relevance.js';
import { errorOf, type ModelWorkerData, type WorkerHello, type WorkerReply, type WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('model-worker.js runs as a worker thread (see WorkerModels)');

const { modelsDir, classes, relevance: choice } = workerData as ModelWorkerData;

// The main thread has werift and allocation to run: ORT threads must not spin on its core.
setOrtSpinning(false);

try {
  // No lexicon here: queries come grounded, as class weights under their key (or, for an
  // open-vocabulary model, with the text it reads).
  const [encoders, relevance] = await Promise.all([loadCodecs('encoder', modelsDir), loadPipelineRelevance(modelsDir, classes, choice)]);
  const models = new InlineModels(relevance, encoders);
  port.on('message', (req: WorkerRequest) => {
    if (req.op === 'close') {
      // Release the onnxruntime sessions here, then let the thread end by itself: terminating it
      // from outside while native code runs aborts the whole process (Napi::Error).
      void Promise.all([encoders.release(), relevance.release()]).finally(() => {
        port.postMessage({ id: req.id, ok: true, op: 'close' } satisfies WorkerReply);
        port.close();
      });
      return;
    }
    answer(models, req).then(
      ([reply, transfer]) => port.postMessage(reply, transfer),
      (e: unknown) => port.postMessage({ id: req.id, ok: false, error: errorOf(e) } satisfies WorkerReply),
    );
  });
  port.postMessage({ ready: true } satisfies WorkerHello);
} catch (e) {
  port.postMessage({ ready: false, error: errorOf(e) });
}

async function answer(models: InlineModels, req: WorkerRequest): Promise<[WorkerReply, ArrayBuffer[]]> {
  switch (req.op) {
    case 'process': {
      const f = await models.process({ width: req.width, height: req.height, data: req.data }, req.queries);
      const relevance = f.relevance.map(([q, r]): [string, typeof r] => [q, { ...r, patchScores: own(r.patchScores), best: own(r.best) }]);
      // The patches go over as a copy: the worker keeps its own for encodeIndexed.
      const patches = own(f.patches);
      const buffers = [patches, f.variances, ...relevance.flatMap(([, r]) => [r.patchScores, r.best])];
      return [{ id: req.id, ok: true, op: 'process', ...f, patches, relevance }, buffers.map((b) => b.buffer as ArrayBuffer)];
    }
    case 'fuse': {
      const r = await models.fuse(req.seq, req.query);
      const relevance = { ...r, patchScores: own(r.patchScores), best: own(r.best) };
      return [
        { id: req.id, ok: true, op: 'fuse', relevance },
        [relevance.patchScores.buffer as ArrayBuffer, relevance.best.buffer as ArrayBuffer],
      ];
    }
    case 'encodeIndexed': {
      const codes = own(await models.encodeIndexed(req.seq, req.bytes, req.idx));
      return [{ id: req.id, ok: true, op: 'encodeIndexed', codes }, [codes.buffer as ArrayBuffer]];
    }
    case 'encode': {
      const codes = own(await models.encoder.encode(req.bytes, req.patches));
      return [{ id: req.id, ok: true, op: 'encode', codes }, [codes.buffer as ArrayBuffer]];
    }
    case 'warmUp':
      await models.warmUp(req.width, req.height);
      return [{ id: req.id, ok: true, op: 'warmUp' }, []];
    case 'close':
      throw new Error('close is answered by the message handler');
  }
}

/**
 * A copy alone in its own buffer, which can be transferred: onnxruntime's output buffers may be
 * external (not detachable) or views of a larger one.
 */
function own<T extends Float32Array | Uint8Array>(a: T): T {
  return a.slice() as T;
}
