// updraft's checksum worker: CRCs of file parts off the page's main thread.
import { crcOf } from "./updraft.js";

onmessage = async ({ data: { n, blob, algorithm } }) => {
  try {
    postMessage({ n, value: await crcOf(blob, algorithm) });
  } catch (e) {
    postMessage({ n, error: String(e?.message ?? e) });
  }
};
