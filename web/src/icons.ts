import { s } from './dom.ts'

/** A few line icons (24×24, drawn for this app), inline so they cost no request and need no emoji font. */
const PATHS = {
  pin: 'M12 21.5s6.5-6.6 6.5-11.5a6.5 6.5 0 0 0-13 0c0 4.9 6.5 11.5 6.5 11.5zM12 12.3a2.3 2.3 0 1 0 0-4.6 2.3 2.3 0 0 0 0 4.6z',
  map: 'M3 6.5l6-2.5 6 2.5 6-2.5v13.5l-6 2.5-6-2.5-6 2.5zM9 4v13.5M15 6.5V20',
  camera: 'M3.5 8h3.5l1.8-2.5h6.4L17 8h3.5v11.5h-17zM12 16.8a3.3 3.3 0 1 0 0-6.6 3.3 3.3 0 0 0 0 6.6z',
  plus1: 'M4 12h7M7.5 8.5v7M15 9l3-2.5v11',
  check: 'M4.5 12.5l4.5 4.5 10.5-10.5',
  clock: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5.5l3.5 2',
  bell: 'M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15zM10 20.5a2 2 0 0 0 4 0',
  frame: 'M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5',
} as const

export type IconName = keyof typeof PATHS

export function icon(name: IconName): SVGSVGElement {
  const svg = s('svg', { viewBox: '0 0 24 24', width: 22, height: 22, class: 'icon', 'aria-hidden': 'true', focusable: 'false' })
  svg.appendChild(s('path', { d: PATHS[name] }))
  return svg
}
