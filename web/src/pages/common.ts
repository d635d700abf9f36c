import { h } from '../dom.ts'
import { statusLabel } from '../i18n.ts'

export const statusBadge = (s: string): HTMLElement => h('span', { class: `badge st-${s}` }, statusLabel(s))

export const clip = (s: string, n = 180): string => (s.length > n ? `${s.slice(0, n)}…` : s)
