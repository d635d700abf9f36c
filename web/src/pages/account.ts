/** Sign up and sign in by phone number and password (the phone number is the username). */
import { api, errorText } from '../api.ts'
import { field, fill, h } from '../dom.ts'
import { store } from '../format.ts'
import { dictionary } from '../i18n.ts'
import { navigate } from '../router.ts'
import { currentUser } from './services-common.ts'

const t = dictionary({
  title: 'Tài khoản',
  signIn: 'Đăng nhập',
  signUp: 'Đăng ký tài khoản',
  phone: 'Số điện thoại',
  phoneHint: 'Ví dụ: 0912345678',
  password: 'Mật khẩu',
  newPassword: 'Mật khẩu (ít nhất 10 ký tự)',
  name: 'Họ và tên',
  phoneInvalid: 'Số điện thoại gồm 9 đến 15 chữ số.',
  passwordShort: 'Mật khẩu cần ít nhất 10 ký tự.',
  needName: 'Hãy nhập họ tên.',
  noAccount: 'Chưa có tài khoản?',
  haveAccount: 'Đã có tài khoản?',
  signedIn: 'Xin chào, {name}',
  myDossiers: 'Hồ sơ của tôi',
  services: 'Dịch vụ công',
  logout: 'Đăng xuất',
  staffHint: 'Cán bộ đăng nhập bằng tên đăng nhập được cấp tại trang Cán bộ.',
  welcome: 'Đã tạo tài khoản. Bạn đã đăng nhập.',
}, {
  title: 'Account',
  signIn: 'Sign in',
  signUp: 'Create an account',
  phone: 'Phone number',
  phoneHint: 'For example 0912345678',
  password: 'Password',
  newPassword: 'Password (at least 10 characters)',
  name: 'Full name',
  phoneInvalid: 'A phone number has 9 to 15 digits.',
  passwordShort: 'The password needs at least 10 characters.',
  needName: 'Enter your name.',
  noAccount: 'No account yet?',
  haveAccount: 'Already have an account?',
  signedIn: 'Hello, {name}',
  myDossiers: 'My dossiers',
  services: 'Public services',
  logout: 'Sign out',
  staffHint: 'Officers sign in with the username they were given, on the Staff page.',
  welcome: 'Account created. You are signed in.',
})

/** "0912 345 678", "+84 912…" → digits (and a leading +), the username of a citizen account. */
export const normalisePhone = (s: string): string => s.replace(/[\s.()-]/g, '')
const PHONE_RE = /^\+?[0-9]{9,15}$/

function afterSignIn(): void {
  const next = store.get<string | null>('hb.next', null)
  store.del('hb.next')
  navigate(next ?? '/account')
}

export async function renderAccount(main: HTMLElement, params: string[]): Promise<void> {
  const me = await currentUser()
  if (me) {
    fill(main, h('h1', null, t('title')),
      h('section', { class: 'card' }, h('p', { class: 'who-name' }, t('signedIn', { name: me.display_name })),
        h('ul', { class: 'links' }, h('li', null, h('a', { href: '#/dossiers' }, t('myDossiers'))), h('li', null, h('a', { href: '#/services' }, t('services')))),
        h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
          await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined)
          navigate('/account')
        } }, t('logout'))))
    return
  }
  if (params[0] === 'register') return register(main)
  const phone = h('input', { type: 'tel', name: 'phone', autocomplete: 'username', inputmode: 'tel', required: true, maxlength: 20 })
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, maxlength: 256 })
  const err = h('p', { class: 'error', role: 'alert', hidden: true })
  const btn = h('button', { type: 'submit', class: 'btn primary big' }, t('signIn'))
  fill(main, h('h1', null, t('signIn')),
    h('form', { class: 'card login', onsubmit: async (e: Event) => {
      e.preventDefault()
      err.hidden = true
      btn.disabled = true
      try {
        await api('/api/auth/login', { method: 'POST', body: { username: normalisePhone(phone.value), password: pass.value, mode: 'cookie' } })
        afterSignIn()
      } catch (x) {
        fill(err, errorText(x))
        err.hidden = false
        btn.disabled = false
      }
    } }, field(t('phone'), phone, t('phoneHint')), field(t('password'), pass), err, btn),
    h('p', null, t('noAccount'), ' ', h('a', { href: '#/account/register' }, t('signUp'))),
    h('p', { class: 'hint' }, t('staffHint')))
  phone.focus()
}

function register(main: HTMLElement): void {
  const name = h('input', { type: 'text', name: 'display_name', autocomplete: 'name', required: true, maxlength: 120 })
  const phone = h('input', { type: 'tel', name: 'phone', autocomplete: 'tel', inputmode: 'tel', required: true, maxlength: 20 })
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 256 })
  const err = h('p', { class: 'error', role: 'alert', hidden: true })
  const btn = h('button', { type: 'submit', class: 'btn primary big' }, t('signUp'))
  const fail = (m: string, el?: HTMLElement) => {
    fill(err, m)
    err.hidden = false
    btn.disabled = false
    el?.focus()
  }
  fill(main, h('h1', null, t('signUp')),
    h('form', { class: 'card login', novalidate: true, onsubmit: async (e: Event) => {
      e.preventDefault()
      err.hidden = true
      const p = normalisePhone(phone.value)
      if (!name.value.trim()) return fail(t('needName'), name)
      if (!PHONE_RE.test(p)) return fail(t('phoneInvalid'), phone)
      if (pass.value.length < 10) return fail(t('passwordShort'), pass)
      btn.disabled = true
      try {
        await api('/api/auth/register', { method: 'POST', body: { username: p, phone: p, display_name: name.value.trim(), password: pass.value } })
        await api('/api/auth/login', { method: 'POST', body: { username: p, password: pass.value, mode: 'cookie' } })
        afterSignIn()
      } catch (x) {
        fail(errorText(x))
      }
    } }, field(t('name'), name), field(t('phone'), phone, t('phoneHint')), field(t('newPassword'), pass), err, btn),
    h('p', null, t('haveAccount'), ' ', h('a', { href: '#/account' }, t('signIn'))))
  name.focus()
}
