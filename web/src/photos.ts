/** Longest edge of a photo after resizing on the phone. */
export const MAX_EDGE = 1600

function loadImage(file: Blob): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file)
    const img = new Image()
    img.onload = () => {
      URL.revokeObjectURL(url)
      resolve(img)
    }
    img.onerror = () => {
      URL.revokeObjectURL(url)
      reject(new Error('decode'))
    }
    img.src = url
  })
}

/**
 * Resizes a picture to at most 1600 px on its longest edge and encodes it as JPEG (quality 0.82),
 * with a canvas. Browsers apply the EXIF orientation when decoding into an <img>, so the result
 * is upright; the canvas writes no EXIF at all (no GPS, no camera details leave the phone).
 */
export async function resizePhoto(file: Blob): Promise<Blob> {
  const img = await loadImage(file)
  const w0 = img.naturalWidth, h0 = img.naturalHeight
  if (!w0 || !h0) throw new Error('empty')
  const k = Math.min(1, MAX_EDGE / Math.max(w0, h0))
  const w = Math.max(1, Math.round(w0 * k)), h = Math.max(1, Math.round(h0 * k))
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('canvas')
  ctx.fillStyle = '#fff' // transparent PNGs become white, not black
  ctx.fillRect(0, 0, w, h)
  ctx.drawImage(img, 0, 0, w, h)
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.82))
  canvas.width = canvas.height = 0 // free the bitmap memory at once on low-end phones
  if (!blob) throw new Error('encode')
  return blob
}
