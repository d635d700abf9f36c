/** A tiny element builder: attributes, properties (on*), children. Text is always set as text, never as HTML. */
type Child = Node | string | number | null | undefined | false | Child[]
type Attrs = Record<string, unknown>

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener)
      else if (k === 'class') el.className = String(v)
      else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') (el as unknown as Record<string, unknown>)[k] = v
      else el.setAttribute(k, v === true ? '' : String(v))
    }
  }
  append(el, children)
  return el
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)))
  }
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.textContent = ''
  append(el, children)
}

const SVG_NS = 'http://www.w3.org/2000/svg'
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

let idSeq = 0
/** A unique id for label/for pairs. */
export const uid = (p = 'f') => `${p}${++idSeq}`

/** A labelled form field: label above, control, optional hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || (control.id = uid())
  const hintEl = hint ? h('small', { class: 'hint', id: `${id}-hint` }, hint) : null
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl)
}

/** A checkbox with its label on the right (one large touch target). */
export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, attrs: Attrs = {}): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'checkbox', checked, ...attrs, onchange: () => onChange(input.checked) })
  return { el: h('label', { class: 'check' }, input, h('span', null, label)), input }
}
