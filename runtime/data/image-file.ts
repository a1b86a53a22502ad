/**
 * One image file, PNG or JPEG (the name's ending chooses): the size its header
 * declares, read before anything is decoded, and its pixels as RGBA bytes.
 * The image-folder loader and the photograph experiments decode through it.
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { DataError } from "./errors.js";

export const isPng = (name: string): boolean => name.toLowerCase().endsWith(".png");
export const isJpeg = (name: string): boolean => /\.jpe?g$/i.test(name);
export const isImage = (name: string): boolean => isPng(name) || isJpeg(name);

/** The 8 bytes every PNG starts with. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The size a PNG declares in its IHDR chunk, which the format requires to come
 * first, read from the header alone; null when the bytes do not start like a
 * PNG (decoding then says what is wrong). A small file can declare a huge
 * image: 261 KB of zeros inflate to 16384x16384 pixels, 1 GB of RGBA, so the
 * size is checked against the field before anything is decoded.
 */
export function declaredPngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (type !== "IHDR") return null;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The SOFn markers (0xC0-0xCF less DHT 0xC4, JPG 0xC8 and DAC 0xCC), whose segment gives the frame's size. */
const isStartOfFrame = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * The size a JPEG declares in its start-of-frame segment, read by walking the
 * marker segments before the first scan; null when the bytes do not start like
 * a JPEG or no frame header comes before the scan (decoding then says what is
 * wrong). As for PNG, the size is checked against the field before decoding.
 */
export function declaredJpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers carry no length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return null; // the scan (or the end) before any frame header
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (isStartOfFrame(marker)) {
      if (i + 8 >= bytes.length) return null;
      return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    }
    if (length < 2) return null;
    i += 2 + length;
  }
  return null;
}

/**
 * Decodes one image file's bytes to RGBA, by its name's ending: pngjs for
 * `.png`, jpeg-js for `.jpg` and `.jpeg`. An unreadable file is an error naming
 * it; the decoders' own limits are set just above the field's size.
 */
export function decodeRgba(bytes: Uint8Array, file: { shown: string }, width: number, height: number): { width: number; height: number; data: Uint8Array } {
  if (isJpeg(file.shown)) {
    try {
      // The size was checked against the declared one; these caps only guard a file whose header lies.
      const megapixels = (width * height) / 1e6;
      const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: megapixels + 1, maxMemoryUsageInMB: Math.ceil(megapixels * 16) + 64 });
      return decoded;
    } catch (error) {
      throw new DataError(file.shown, `is not a readable JPEG image: ${String((error as Error).message ?? error)}.`, "format", { cause: error });
    }
  }
  try {
    return PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new DataError(file.shown, `is not a readable PNG image: ${(error as Error).message}.`, "format", { cause: error });
  }
}

/** An image's size and RGBA bytes, row by row. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Decodes an image file of any size up to `maxPixels`, checked on the size its
 * header declares before decoding, so that a small file declaring a huge image
 * is refused without decoding it. Errors name the file (`shown`).
 */
export function decodeImageFile(bytes: Uint8Array, shown: string, maxPixels: number): RgbaImage {
  const declared = isJpeg(shown) ? declaredJpegSize(bytes) : declaredPngSize(bytes);
  if (declared === null) throw new DataError(shown, `is not a readable ${isJpeg(shown) ? "JPEG" : "PNG"} image: its header declares no size.`, "format");
  if (declared.width * declared.height > maxPixels) {
    throw new DataError(shown, `declares ${declared.width}x${declared.height} pixels, more than the ${maxPixels} this reader takes.`, "shape");
  }
  return decodeRgba(bytes, { shown }, declared.width, declared.height);
}
