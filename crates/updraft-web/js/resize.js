// updraft's image-resizing worker, for <updraft-uploader resize=…>: decodes an image,
// scales it so its longest side is at most `max` pixels, and encodes it again, all off
// the page's main thread (createImageBitmap, OffscreenCanvas).

/** `file` scaled to fit `max` pixels, as a Blob of its own type; null when it already fits. */
export async function shrink(file, max, quality) {
  const bmp = await createImageBitmap(file);
  const scale = max / Math.max(bmp.width, bmp.height);
  if (scale >= 1) {
    bmp.close();
    return null;
  }
  const w = Math.max(1, Math.round(bmp.width * scale)), h = Math.max(1, Math.round(bmp.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const g = canvas.getContext("2d");
  g.imageSmoothingQuality = "high";
  g.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  return canvas.convertToBlob({ type: file.type, quality });
}

if (typeof WorkerGlobalScope != "undefined" && globalThis instanceof WorkerGlobalScope) {
  onmessage = async ({ data: { n, file, max, quality } }) => {
    try {
      postMessage({ n, value: await shrink(file, max, quality) });
    } catch (e) {
      postMessage({ n, error: String(e?.message ?? e) });
    }
  };
}
