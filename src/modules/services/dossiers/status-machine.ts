/**
 * The dossier status machine (pure). The ten national status codes and, for each action, the
 * statuses it may start from, the status it leads to, and who may take it.
 */

export const DOSSIER_STATUS = {
  NEW: 1,
  RECEIVED: 2,
  REFUSED: 3,
  PROCESSING: 4,
  SUPPLEMENT_REQUESTED: 5,
  AWAITING_FEE: 6,
  WITHDRAWN: 7,
  STOPPED: 8,
  RESOLVED: 9,
  RETURNED: 10,
} as const
export type DossierStatus = (typeof DOSSIER_STATUS)[keyof typeof DOSSIER_STATUS]

export const STATUS_NAMES: Record<DossierStatus, { key: string; vi: string; en: string }> = {
  1: { key: 'new', vi: 'Mới', en: 'New' },
  2: { key: 'received', vi: 'Đã tiếp nhận', en: 'Received' },
  3: { key: 'refused', vi: 'Từ chối tiếp nhận', en: 'Refused' },
  4: { key: 'processing', vi: 'Đang xử lý', en: 'Processing' },
  5: { key: 'supplement_requested', vi: 'Yêu cầu bổ sung', en: 'Supplement requested' },
  6: { key: 'awaiting_fee', vi: 'Chờ thực hiện nghĩa vụ tài chính', en: 'Awaiting fees' },
  7: { key: 'withdrawn', vi: 'Công dân rút hồ sơ', en: 'Withdrawn' },
  8: { key: 'stopped', vi: 'Dừng xử lý', en: 'Stopped' },
  9: { key: 'resolved', vi: 'Đã giải quyết', en: 'Resolved' },
  10: { key: 'returned', vi: 'Đã trả kết quả', en: 'Returned' },
}

/** Terminal statuses: nothing more happens to the dossier. */
export const FINAL_STATUSES: readonly DossierStatus[] = [3, 7, 8, 10]
/** Statuses in which the handling clock may run or be paused. */
export const OPEN_STATUSES: readonly DossierStatus[] = [1, 2, 4, 5, 6]

export const DOSSIER_ACTIONS = [
  'receive', 'refuse', 'process', 'forward', 'request_supplement', 'supplement', 'request_fee', 'pay',
  'withdraw', 'stop', 'resolve', 'return', 'change_deadline', 'approve_apology',
] as const
export type DossierAction = (typeof DOSSIER_ACTIONS)[number]

/** Who may take an action: staff of the handling unit, the applicant (owner), either, or a unit leader. */
export type Actor = 'staff' | 'owner' | 'staff_or_owner' | 'leader'

export interface TransitionRule {
  from: readonly DossierStatus[]
  who: Actor
  /** The next status; `undefined` when the action keeps the status. */
  to: (ctx: { status: DossierStatus; received: boolean }) => DossierStatus
  /** Fields the body must carry. */
  requires: readonly ('reason' | 'approver_user_id' | 'new_due' | 'method')[]
}

const stay = ({ status }: { status: DossierStatus }) => status

export const TRANSITIONS: Record<DossierAction, TransitionRule> = {
  receive: { from: [1], who: 'staff', to: () => 2, requires: [] },
  refuse: { from: [1], who: 'staff', to: () => 3, requires: ['reason'] },
  process: { from: [2], who: 'staff', to: () => 4, requires: [] },
  forward: { from: [4], who: 'staff', to: () => 4, requires: [] },
  request_supplement: { from: [1, 2, 4], who: 'staff', to: () => 5, requires: ['reason'] },
  // After the supplement: back to intake when the dossier was never received, else to processing.
  supplement: { from: [5], who: 'staff_or_owner', to: ({ received }) => (received ? 4 : 1), requires: [] },
  request_fee: { from: [2, 4], who: 'staff', to: () => 6, requires: [] },
  // Paying while awaiting fees resumes processing; paying earlier only records the payment.
  pay: { from: [1, 2, 4, 6], who: 'staff_or_owner', to: ({ status }) => (status === 6 ? 4 : status), requires: ['method'] },
  withdraw: { from: [1, 2, 4, 5, 6], who: 'owner', to: () => 7, requires: [] },
  stop: { from: [2, 4, 5, 6], who: 'staff', to: () => 8, requires: ['reason'] },
  resolve: { from: [4], who: 'staff', to: () => 9, requires: [] },
  return: { from: [9], who: 'staff', to: () => 10, requires: [] },
  change_deadline: { from: [2, 4, 5, 6], who: 'staff', to: stay, requires: ['reason', 'approver_user_id', 'new_due'] },
  approve_apology: { from: [2, 4, 5, 6, 9], who: 'leader', to: stay, requires: [] },
}

/** The status an action leads to from `status`, or undefined when the action is not allowed there. */
export function nextStatus(action: DossierAction, status: DossierStatus, received: boolean): DossierStatus | undefined {
  const rule = TRANSITIONS[action]
  if (!rule.from.includes(status)) return undefined
  return rule.to({ status, received })
}

/** Every (action, from) pair that is allowed, for tests and documentation. */
export function allowedPairs(): { action: DossierAction; from: DossierStatus }[] {
  return DOSSIER_ACTIONS.flatMap((action) => TRANSITIONS[action].from.map((from) => ({ action, from })))
}

export function isDossierAction(s: string): s is DossierAction {
  return (DOSSIER_ACTIONS as readonly string[]).includes(s)
}
