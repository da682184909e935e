// Just enough protobuf (wire format) for the two messages of wx-server-sdk's 云调用: it sends a
// CommApiData and expects a CommOpenApiResp back. Varints and length-delimited fields only, which is
// all those messages use; unknown fields are skipped, other wire types refused.

export type Field = { no: number; varint?: number; bytes?: Buffer };

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++];
    // Multiplication, not <<, so values past 2^31 stay exact (int32 negatives arrive as 10 bytes).
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** The fields of one message, in wire order (repeated fields appear several times). */
export function decodeMessage(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const no = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) {
      const [value, next] = readVarint(buf, pos);
      fields.push({ no, varint: value });
      pos = next;
    } else if (wireType === 2) {
      const [len, next] = readVarint(buf, pos);
      if (next + len > buf.length) throw new Error('truncated length-delimited field');
      fields.push({ no, bytes: buf.subarray(next, next + len) });
      pos = next + len;
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  if (pos !== buf.length) throw new Error('truncated fixed-width field');
  return fields;
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Encodes fields given as [number, value]: numbers as varints, strings and Buffers length-delimited. */
export function encodeMessage(fields: Array<[number, number | string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [no, value] of fields) {
    if (typeof value === 'number') {
      parts.push(varint(no * 8), varint(value));
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      parts.push(varint(no * 8 + 2), varint(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}
