import { h, s } from './dom.ts'
import { t } from './i18n.ts'
import { icon } from './icons.ts'
import { ATTRIBUTION } from './pages/about.ts'
import { boundaries, type BoundaryFeature } from './refdata.ts'

/** Projected commune outlines, built once per page load. */
interface Projected {
  w: number
  h: number
  project(lon: number, lat: number): [number, number]
  unproject(x: number, y: number): [number, number]
  shapes: { code: string; name: string; d: string }[]
}

const W = 1000
let projected: Promise<Projected> | undefined

function build(features: BoundaryFeature[]): Projected {
  let minLon = Infinity, minLat = Infinity, maxLon = -Infinity, maxLat = -Infinity
  const polys = (f: BoundaryFeature): number[][][][] => (!f.geometry ? [] : f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates)
  for (const f of features) for (const p of polys(f)) for (const ring of p) for (const [lon, lat] of ring) {
    if (lon < minLon) minLon = lon
    if (lon > maxLon) maxLon = lon
    if (lat < minLat) minLat = lat
    if (lat > maxLat) maxLat = lat
  }
  // Equirectangular, squeezed by cos(latitude): fine at the scale of one province.
  const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180)
  const scale = W / ((maxLon - minLon) * kx)
  const height = (maxLat - minLat) * scale
  const project = (lon: number, lat: number): [number, number] => [(lon - minLon) * kx * scale, (maxLat - lat) * scale]
  const unproject = (x: number, y: number): [number, number] => [minLon + x / (kx * scale), maxLat - y / scale]
  const r1 = (v: number) => Math.round(v * 10) / 10
  const shapes = features.map((f) => {
    let d = ''
    for (const p of polys(f)) for (const ring of p) {
      let last = ''
      let n = 0
      for (const [lon, lat] of ring) {
        const [x, y] = project(lon, lat)
        const pt = `${r1(x)} ${r1(y)}`
        if (pt === last) continue
        d += (n++ === 0 ? 'M' : 'L') + pt
        last = pt
      }
      d += 'Z'
    }
    return { code: f.properties.code, name: f.properties.full_name || f.properties.name, d }
  })
  return { w: W, h: height, project, unproject, shapes }
}

function loadProjected(): Promise<Projected> {
  projected ??= boundaries().then((fc) => build(fc.features))
  projected.catch(() => (projected = undefined))
  return projected
}

export interface MapPoint {
  id: string
  lat: number
  lon: number
  cls: string
  title: string
}

export interface CommuneMap {
  el: HTMLElement
  setMarker(lat: number | null, lon: number | null): void
  highlight(code: string | null): void
  setPoints(points: MapPoint[]): void
  zoomToCommune(code: string): void
}

export interface MapOptions {
  /** A tap (or Enter on the keyboard) at a place on the map. */
  onTap?: (lat: number, lon: number) => void
  /** A tap on (or near) a point. */
  onPoint?: (id: string) => void
  caption?: string
}

/** The commune map as inline SVG: pan by dragging, zoom with buttons, pinch or wheel; tap to pick. */
export async function createMap(opts: MapOptions = {}): Promise<CommuneMap> {
  const P = await loadProjected()
  const full = { x: -10, y: -10, w: P.w + 20, h: P.h + 20 }
  const vb = { ...full }
  const svg = s('svg', { class: 'map-svg', viewBox: `${vb.x} ${vb.y} ${vb.w} ${vb.h}`, role: 'img', 'aria-label': t('mapLabel'), tabindex: 0 })
  svg.style.aspectRatio = `${full.w} / ${full.h}`
  const gShapes = s('g', { class: 'communes' })
  const byCode = new Map<string, SVGPathElement>()
  for (const sh of P.shapes) {
    const path = s('path', { d: sh.d, 'data-code': sh.code })
    const title = s('title')
    title.textContent = sh.name
    path.appendChild(title)
    gShapes.appendChild(path)
    byCode.set(sh.code, path)
  }
  const gPoints = s('g', { class: 'points' })
  const marker = s('g', { class: 'marker', visibility: 'hidden' })
  const markerRing = s('circle', { r: 14, class: 'ring' })
  const markerDot = s('circle', { r: 6, class: 'dot' })
  marker.append(markerRing, markerDot)
  const cross = s('path', { class: 'cross', d: '' })
  svg.append(gShapes, gPoints, marker, cross)

  let points: MapPoint[] = []
  let markerAt: [number, number] | null = null
  let highlighted: SVGPathElement | null = null

  /** SVG units per screen pixel. */
  const unitPerPx = () => {
    const r = svg.getBoundingClientRect()
    return r.width && r.height ? Math.max(vb.w / r.width, vb.h / r.height) : vb.w / 360
  }
  const redrawSymbols = () => {
    const u = unitPerPx()
    markerRing.setAttribute('r', String(14 * u))
    markerDot.setAttribute('r', String(6 * u))
    for (const c of Array.from(gPoints.children)) c.setAttribute('r', String(7 * u))
    let kb = false
    try {
      kb = document.activeElement === svg && svg.matches(':focus-visible')
    } catch {
      /* old browser */
    }
    if (kb) {
      const cx = vb.x + vb.w / 2, cy = vb.y + vb.h / 2, k = 12 * u
      cross.setAttribute('d', `M${cx - k} ${cy}H${cx + k}M${cx} ${cy - k}V${cy + k}`)
    } else cross.setAttribute('d', '')
  }
  const apply = () => {
    svg.setAttribute('viewBox', `${vb.x} ${vb.y} ${vb.w} ${vb.h}`)
    redrawSymbols()
  }
  const zoom = (f: number, cx = vb.x + vb.w / 2, cy = vb.y + vb.h / 2) => {
    const nw = Math.min(full.w * 1.5, Math.max(full.w / 60, vb.w * f))
    const k = nw / vb.w
    vb.x = cx - (cx - vb.x) * k
    vb.y = cy - (cy - vb.y) * k
    vb.w = nw
    vb.h *= k
    apply()
  }
  const toSvg = (clientX: number, clientY: number): [number, number] => {
    const m = svg.getScreenCTM()
    if (!m) return [vb.x, vb.y]
    const p = new DOMPoint(clientX, clientY).matrixTransform(m.inverse())
    return [p.x, p.y]
  }
  const tapAt = (x: number, y: number) => {
    if (opts.onPoint && points.length) {
      const u = unitPerPx()
      let best: MapPoint | null = null
      let bestD = 22 * u
      for (const p of points) {
        const [px, py] = P.project(p.lon, p.lat)
        const d = Math.hypot(px - x, py - y)
        if (d < bestD) (best = p), (bestD = d)
      }
      if (best) return opts.onPoint(best.id)
    }
    if (opts.onTap) {
      const [lon, lat] = P.unproject(x, y)
      opts.onTap(Math.round(lat * 1e6) / 1e6, Math.round(lon * 1e6) / 1e6)
    }
  }

  // Pointer gestures: one finger drags (or taps), two fingers pinch.
  const ptrs = new Map<number, { x: number; y: number }>()
  let start: { x: number; y: number; vx: number; vy: number } | null = null
  let moved = false
  let pinch: { d: number; w: number } | null = null
  svg.addEventListener('pointerdown', (e) => {
    svg.setPointerCapture(e.pointerId)
    ptrs.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (ptrs.size === 1) {
      start = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y }
      moved = false
      pinch = null
    } else if (ptrs.size === 2) {
      const [a, b] = Array.from(ptrs.values())
      pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), w: vb.w }
      moved = true
    }
  })
  svg.addEventListener('pointermove', (e) => {
    if (!ptrs.has(e.pointerId)) return
    ptrs.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (pinch && ptrs.size === 2) {
      const [a, b] = Array.from(ptrs.values())
      const d = Math.hypot(a.x - b.x, a.y - b.y)
      if (d > 0) {
        const [cx, cy] = toSvg((a.x + b.x) / 2, (a.y + b.y) / 2)
        zoom((pinch.w * (pinch.d / d)) / vb.w, cx, cy)
      }
    } else if (start && ptrs.size === 1) {
      const dx = e.clientX - start.x, dy = e.clientY - start.y
      if (!moved && Math.hypot(dx, dy) < 8) return
      moved = true
      const u = unitPerPx()
      vb.x = start.vx - dx * u
      vb.y = start.vy - dy * u
      apply()
    }
  })
  const end = (e: PointerEvent) => {
    if (!ptrs.has(e.pointerId)) return
    ptrs.delete(e.pointerId)
    if (ptrs.size === 0) {
      if (!moved && start && e.type === 'pointerup') tapAt(...toSvg(e.clientX, e.clientY))
      start = null
      pinch = null
    }
  }
  svg.addEventListener('pointerup', end)
  svg.addEventListener('pointercancel', end)
  svg.addEventListener('wheel', (e) => {
    e.preventDefault()
    zoom(e.deltaY > 0 ? 1.25 : 0.8, ...toSvg(e.clientX, e.clientY))
  }, { passive: false })
  svg.addEventListener('keydown', (e) => {
    const step = vb.w / 8
    const k = e.key
    if (k === 'ArrowLeft') vb.x -= step
    else if (k === 'ArrowRight') vb.x += step
    else if (k === 'ArrowUp') vb.y -= step
    else if (k === 'ArrowDown') vb.y += step
    else if (k === '+' || k === '=') return (e.preventDefault(), zoom(0.6))
    else if (k === '-') return (e.preventDefault(), zoom(1 / 0.6))
    else if (k === 'Enter' || k === ' ') return (e.preventDefault(), tapAt(vb.x + vb.w / 2, vb.y + vb.h / 2))
    else return
    e.preventDefault()
    apply()
  })
  svg.addEventListener('focus', redrawSymbols)
  svg.addEventListener('blur', redrawSymbols)

  const btn = (label: string, text: string | SVGSVGElement, fn: () => void) => h('button', { type: 'button', class: 'map-btn', 'aria-label': label, title: label, onclick: fn }, text)
  const el = h('div', { class: 'map' },
    svg,
    h('div', { class: 'map-ctl' },
      btn(t('zoomIn'), '+', () => zoom(0.6)),
      btn(t('zoomOut'), '−', () => zoom(1 / 0.6)),
      btn(t('zoomReset'), icon('frame'), () => (Object.assign(vb, full), apply())),
    ),
    opts.caption ? h('p', { class: 'hint' }, opts.caption) : null,
    h('p', { class: 'attrib', lang: 'en' }, ATTRIBUTION),
  )
  // Symbol sizes depend on the rendered size: redraw once it is laid out and when it changes.
  if ('ResizeObserver' in window) new ResizeObserver(() => redrawSymbols()).observe(svg)

  return {
    el,
    setMarker(lat, lon) {
      if (lat === null || lon === null) {
        markerAt = null
        marker.setAttribute('visibility', 'hidden')
        return
      }
      markerAt = P.project(lon, lat)
      marker.setAttribute('transform', `translate(${markerAt[0]} ${markerAt[1]})`)
      marker.setAttribute('visibility', 'visible')
      redrawSymbols()
    },
    highlight(code) {
      highlighted?.classList.remove('sel')
      highlighted = code ? (byCode.get(code) ?? null) : null
      if (highlighted) {
        highlighted.classList.add('sel')
        gShapes.appendChild(highlighted) // on top, so its outline is not hidden by neighbours
      }
    },
    setPoints(list) {
      points = list
      gPoints.textContent = ''
      for (const p of list) {
        const [x, y] = P.project(p.lon, p.lat)
        const c = s('circle', { cx: Math.round(x * 10) / 10, cy: Math.round(y * 10) / 10, r: 7, class: `pt ${p.cls}` })
        const title = s('title')
        title.textContent = p.title
        c.appendChild(title)
        gPoints.appendChild(c)
      }
      redrawSymbols()
    },
    zoomToCommune(code) {
      const path = byCode.get(code)
      if (!path) return
      const b = path.getBBox()
      const pad = Math.max(b.width, b.height) * 0.15 + 5
      const w = b.width + 2 * pad, hgt = b.height + 2 * pad
      // Keep the map's aspect ratio so the commune fills the frame.
      const ratio = full.w / full.h
      const vw = Math.max(w, hgt * ratio)
      vb.w = vw
      vb.h = vw / ratio
      vb.x = b.x + b.width / 2 - vb.w / 2
      vb.y = b.y + b.height / 2 - vb.h / 2
      apply()
    },
  }
}
