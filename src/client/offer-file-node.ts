/**
 * The default offer file reader, on node:fs. Its own module so package.json's `browser` field can map it to nothing
 * (offer-resolve.ts loads it lazily): browser bundles never see node:fs.
 */
import { open } from "node:fs/promises";

/** Read at most maxBytes + 1 bytes of `path` (errno codes as OfferFileReader in offer-resolve.ts documents). */
export async function readOfferFileNode(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (st.size > maxBytes) throw Object.assign(new Error("file too large"), { code: "EFBIG" });
    const buf = new Uint8Array(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total >= buf.length) break;
    }
    return buf.subarray(0, total);
  } finally {
    await handle.close();
  }
}
