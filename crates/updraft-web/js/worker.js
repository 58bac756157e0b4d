// updraft's worker: the page's requests (XMLHttpRequest), and CRCs of file parts, off the
// page's main thread.
import { crcOf, request, xhrs } from "./updraft.js";

onmessage = async ({ data: { n, blob, algorithm, send, abort } }) => {
  if (abort) return postMessage({ n }, xhrs.get(abort)?.abort());
  try {
    postMessage({ n, value: await (send ? request(send, (progress) => postMessage({ n, progress })) : crcOf(blob, algorithm)) });
  } catch (e) {
    postMessage({ n, error: String(e?.message ?? e) });
  }
};
