import { fill, h } from '../dom.ts'
import { t } from '../i18n.ts'

/** Required wording: shown as is, in both languages. */
export const ATTRIBUTION = 'Administrative boundaries: Vietnamese Provinces Database (T. Le Quoc, MIT), derived from sapnhap.bando.com.vn (NXB TN-MT & Bản đồ Việt Nam).'
export const DISCLAIMER = 'Ranh giới hành chính là bản đồ tham khảo, không phải số liệu đo đạc pháp lý.'

export function renderAbout(main: HTMLElement): void {
  fill(main,
    h('h1', null, t('aboutTitle')),
    h('section', { class: 'card' },
      h('p', { class: 'about-brand' }, h('img', { src: '/icon.svg', alt: '', width: 64, height: 64 }), h('strong', null, 'Hoa Ban · Điện Biên Smart')),
      h('p', null, t('aboutBody')),
      h('p', null, t('aboutPrivacy')),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'data-title' },
      h('h2', { id: 'data-title' }, t('dataTitle')),
      h('p', { class: 'attribution', lang: 'en' }, ATTRIBUTION),
      h('p', { class: 'disclaimer', lang: 'vi' }, DISCLAIMER),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'dev-title' },
      h('h2', { id: 'dev-title' }, t('developers')),
      h('ul', { class: 'links' },
        h('li', null, h('a', { href: '/docs' }, t('apiDocs')), ' — /docs'),
        h('li', null, h('a', { href: '/open311/v2/discovery.json' }, t('open311')), ' — /open311/v2/discovery.json'),
      ),
    ),
  )
}
