import { createHash } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import exifr from 'exifr'
import sharp, { type Metadata } from 'sharp'
import { badRequest } from '../../platform/http/errors.ts'
import { writeFileAtomic } from '../../platform/storage/atomic-write.ts'

export const PHOTO_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const
export const MAX_PHOTOS = 3
const MAX_EDGE = 2048
const THUMB_EDGE = 320

/** A photo checked, cleaned (no EXIF) and ready to store. */
export interface ProcessedPhoto {
  sha256: string
  mime: string
  ext: string
  width: number
  height: number
  image: Buffer
  thumb: Buffer
  /** GPS position read from EXIF before stripping, if the photo had one. */
  gps: { lat: number; lon: number } | null
}

const notAnImage = (name: string) =>
  badRequest('INVALID_IMAGE', `Tệp "${name}" không phải ảnh JPEG, PNG hoặc WebP hợp lệ.`, `File "${name}" is not a valid JPEG, PNG or WebP image.`)

/**
 * Checks the bytes really are a JPEG, PNG or WebP (the content, not the name or the declared
 * type), reads EXIF GPS, then re-encodes: sharp writes no metadata unless asked, so EXIF
 * (camera, owner, GPS) is gone from what we store. Orientation is applied first so the
 * picture still looks right without its EXIF tag.
 */
export async function processPhoto(buf: Buffer, name: string): Promise<ProcessedPhoto> {
  let meta: Metadata
  try {
    meta = await sharp(buf, { limitInputPixels: 50_000_000 }).metadata()
  } catch {
    throw notAnImage(name)
  }
  const format = meta.format as string
  if (!(format in PHOTO_TYPES)) throw notAnImage(name)
  let gps: ProcessedPhoto['gps'] = null
  try {
    const g = await exifr.gps(buf)
    if (g && Number.isFinite(g.latitude) && Number.isFinite(g.longitude) && Math.abs(g.latitude) <= 90 && Math.abs(g.longitude) <= 180) {
      gps = { lat: g.latitude, lon: g.longitude }
    }
  } catch {
    gps = null
  }
  try {
    const base = sharp(buf, { limitInputPixels: 50_000_000 }).rotate().resize({ width: MAX_EDGE, height: MAX_EDGE, fit: 'inside', withoutEnlargement: true })
    const fmt = format as keyof typeof PHOTO_TYPES
    const encoded = fmt === 'png' ? base.png({ compressionLevel: 8 }) : fmt === 'webp' ? base.webp({ quality: 82 }) : base.jpeg({ quality: 82, mozjpeg: true })
    const { data: image, info } = await encoded.toBuffer({ resolveWithObject: true })
    const thumb = await sharp(image).resize({ width: THUMB_EDGE, height: THUMB_EDGE, fit: 'inside' }).jpeg({ quality: 70 }).toBuffer()
    return {
      sha256: createHash('sha256').update(buf).digest('hex'),
      mime: PHOTO_TYPES[fmt],
      ext: fmt === 'jpeg' ? 'jpg' : fmt,
      width: info.width,
      height: info.height,
      image,
      thumb,
      gps,
    }
  } catch {
    throw notAnImage(name)
  }
}

/** Stored file names, content-addressed so a retried upload reuses the same files. */
export function photoFileNames(p: ProcessedPhoto): { file: string; thumb: string } {
  const dir = p.sha256.slice(0, 2)
  return { file: `${dir}/${p.sha256}.${p.ext}`, thumb: `${dir}/${p.sha256}.thumb.jpg` }
}

/**
 * Writes photos before the database transaction (write to a temporary name, then rename, so a
 * crash never leaves a half file under the final name). If the transaction then fails, the
 * files are orphans that no row points to; `removePhotoFiles` cleans them up.
 */
export async function writePhotoFiles(root: string, photos: ProcessedPhoto[]): Promise<void> {
  for (const p of photos) {
    const names = photoFileNames(p)
    await mkdir(join(root, names.file, '..'), { recursive: true })
    for (const [name, data] of [[names.file, p.image], [names.thumb, p.thumb]] as const) await writeFileAtomic(join(root, name), data)
  }
}

export async function removePhotoFiles(root: string, photos: ProcessedPhoto[]): Promise<void> {
  for (const p of photos) {
    const names = photoFileNames(p)
    await rm(join(root, names.file), { force: true })
    await rm(join(root, names.thumb), { force: true })
  }
}
