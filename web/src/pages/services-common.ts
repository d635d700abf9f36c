import { api, ApiError } from '../api.ts'
import { lang } from '../i18n.ts'

export interface Me {
  id: string
  role: string
  unit_code: string | null
  display_name: string
}

/** The signed-in user, or null when nobody is signed in. Other failures are thrown. */
export async function currentUser(): Promise<Me | null> {
  try {
    return await api<Me>('/api/auth/me')
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null
    throw e
  }
}

/** An amount in đồng: 1.234.000 ₫ (Vietnamese grouping in both languages). */
export const money = (n: number): string => `${String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '.')} ₫`

/** Working hours left (negative: late), in words: "Còn 12,5 giờ làm việc". */
export function hoursLeft(hours: number, left: string, late: string): string {
  const v = Math.abs(hours)
  const s = (Math.round(v * 10) / 10).toString()
  const n = lang === 'vi' ? s.replace('.', ',') : s
  return (hours >= 0 ? left : late).replace('{h}', n)
}

/** The ten national dossier statuses, by code: [vi, en, key]. */
export const STATUS_KEYS: Record<number, [string, string, string]> = {
  1: ['Mới', 'New', 'new'],
  2: ['Đã tiếp nhận', 'Received', 'received'],
  3: ['Từ chối tiếp nhận', 'Refused', 'refused'],
  4: ['Đang xử lý', 'Processing', 'processing'],
  5: ['Yêu cầu bổ sung', 'Supplement requested', 'supplement_requested'],
  6: ['Chờ thực hiện nghĩa vụ tài chính', 'Awaiting fees', 'awaiting_fee'],
  7: ['Công dân rút hồ sơ', 'Withdrawn', 'withdrawn'],
  8: ['Dừng xử lý', 'Stopped', 'stopped'],
  9: ['Đã giải quyết', 'Resolved', 'resolved'],
  10: ['Đã trả kết quả', 'Returned', 'returned'],
}
