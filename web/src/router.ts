/** Hash routing: #/path/segments. `navigate` renders again even when the hash does not change. */
let renderFn: () => void = () => {}
export const setRenderer = (fn: () => void): void => {
  renderFn = fn
}

export function currentPath(): string[] {
  const raw = location.hash.replace(/^#\/?/, '').split('?')[0]
  return raw.split('/').filter(Boolean).map((x) => decodeURIComponent(x))
}

export function navigate(path: string): void {
  const target = `#${path.startsWith('/') ? path : `/${path}`}`
  if (location.hash === target || (target === '#/' && !location.hash)) renderFn()
  else location.hash = target
}
