import type { RawData } from 'ws';

/** The bytes of a ws `message` event, whatever form ws chose for them. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
