import { nanos, type JetStreamManager } from 'nats';

/**
 * Creates the stream when missing (subjects <root>.>, by default sealog.>, file storage, the duplicate window
 * of DESIGN §11); an existing stream is used as it is, its settings being the operator's.
 */
export async function ensureStream(jsm: JetStreamManager, name: string, root: string, duplicateWindowMs: number): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add({ name, subjects: [`${root}.>`], duplicate_window: nanos(duplicateWindowMs) });
    } catch (e) {
      // Another host created it between our look and our add.
      if (!/already in use|name already/i.test((e as Error).message)) throw e;
    }
  }
}
