import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachePiscinaWorkerInterface, piscinaWorkerInfo } from './piscina-interface.js';

/** The parts of piscina's WorkerInfo its interface reads here. */
interface FakeWorkerInfo {
  worker: { threadId: number };
  terminating: boolean;
  readonly interface: { readonly id: number; readonly terminating: boolean };
}

describe('piscina worker interface cache', () => {
  it('piscina-interface - applies to the installed piscina (an upgrade that moves its internals fails here)', () => {
    assert.ok(piscinaWorkerInfo(), "piscina's WorkerInfo is no longer at dist/worker_pool/index.js");
    assert.equal(cachePiscinaWorkerInterface(), true);
    assert.equal(cachePiscinaWorkerInterface(), true, 'applying it again changes nothing');
  });

  it('piscina-interface - one object a worker, whose getters still read the live worker', () => {
    cachePiscinaWorkerInterface();
    const { prototype } = piscinaWorkerInfo()!;
    const workerInfo = (threadId: number): FakeWorkerInfo =>
      Object.assign(Object.create(prototype) as FakeWorkerInfo, { worker: { threadId }, terminating: false });
    const worker = workerInfo(5);
    const face = worker.interface;
    assert.equal(worker.interface, face, 'built once for this worker');
    assert.notEqual(workerInfo(9).interface, face, 'another worker has its own');
    assert.equal(face.id, 5);
    worker.worker.threadId = 6;
    worker.terminating = true;
    assert.equal(face.id, 6, 'read when asked, not when built');
    assert.equal(face.terminating, true);
  });
});
