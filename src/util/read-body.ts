import type { IncomingMessage } from 'node:http';

/**
 * readBody collects a request body of at most `maxBytes`. A larger body
 * rejects with `tooLarge()` (the caller's error in its API's shape) and
 * destroys the request, so nothing more is read; a socket error rejects.
 */
export function readBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
