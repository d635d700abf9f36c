import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { AppContext } from '../../../platform/module.ts'
import { checkActions, checkCondition, type Action, type Condition } from './definitions.ts'
import { insertRule } from './repository.ts'

/** The examples, seeded once (by code); admins edit or disable them afterwards. */
export const SEED_RULES: { code: string; name_vi: string; name_en: string; condition: Condition; actions: Action[] }[] = [
  {
    code: 'report-overdue-1wd',
    name_vi: 'Phản ánh quá hạn hơn 1 ngày làm việc',
    name_en: 'Report overdue by more than 1 working day',
    condition: { fact: 'report_overdue', min_working_days: 1 },
    actions: [
      { type: 'escalate' },
      { type: 'notify', channel: 'in_app', to: 'unit', subject_vi: 'Phản ánh {code} quá hạn', text_vi: 'Phản ánh {code} đã quá hạn xử lý (hạn {due_at}) hơn 1 ngày làm việc và đã được chuyển cấp.' },
      { type: 'flag_unit', level: 'warning', reason_vi: 'Có phản ánh quá hạn hơn 1 ngày làm việc ({code})', reason_en: 'A report is overdue by more than 1 working day ({code})' },
    ],
  },
  {
    code: 'dossier-due-tomorrow',
    name_vi: 'Hồ sơ sẽ trễ hạn vào ngày làm việc tới',
    name_en: 'Dossier will miss its deadline by the next working day',
    condition: { fact: 'dossier_due_soon', within_working_days: 1 },
    actions: [
      { type: 'apology_letter' },
      { type: 'create_task', to: 'unit', title_vi: 'Giải quyết hồ sơ {code} trước hạn {due_local}', due_working_days: 1 },
      { type: 'notify', channel: 'in_app', to: 'unit', subject_vi: 'Hồ sơ {code} sắp đến hạn', text_vi: 'Hồ sơ {code} ({procedure_code}) đến hạn lúc {due_local}; phiếu xin lỗi và hẹn lại ngày trả kết quả đã được lập nháp.' },
    ],
  },
  {
    code: 'commune-silent-30d',
    name_vi: 'Xã không có phản ánh trong 30 ngày dù tháng trước có từ 20 phản ánh',
    name_en: 'No reports from a commune for 30 days while it had at least 20 the month before',
    condition: { fact: 'commune_silent', silent_days: 30, min_previous: 20 },
    actions: [
      { type: 'flag_unit', level: 'warning', reason_vi: 'Không có phản ánh trong {silent_days} ngày (trước đó {previous} phản ánh/tháng)', reason_en: 'No reports for {silent_days} days (previously {previous} a month)' },
      { type: 'create_task', to: 'unit', title_vi: 'Kiểm tra kênh tiếp nhận phản ánh của xã {commune_code}', detail_vi: 'Phản ánh cuối cùng lúc {last_report_at}; tổ công nghệ số cộng đồng kiểm tra ứng dụng và kết nối.', due_working_days: 3 },
      { type: 'notify', channel: 'in_app', to: 'parent_unit', text_vi: 'Xã {commune_code} không có phản ánh nào trong {silent_days} ngày (trước đó {previous}).' },
    ],
  },
  {
    code: 'feed-stale-2d',
    name_vi: 'Nguồn dữ liệu không cập nhật trong 2 ngày',
    name_en: 'A data feed has not updated for 2 days',
    condition: { fact: 'feed_stale', stale_days: 2 },
    actions: [
      { type: 'flag_unit', to: 'province', level: 'critical', reason_vi: 'Nguồn dữ liệu {feed_code} không cập nhật từ {last_updated_at}', reason_en: 'Data feed {feed_code} has not updated since {last_updated_at}' },
      { type: 'notify', channel: 'in_app', to: 'province', text_vi: 'Nguồn dữ liệu {feed_code} không cập nhật trong {age_days} ngày (lần cuối {last_updated_at}).' },
    ],
  },
  {
    code: 'report-escalated-task',
    name_vi: 'Giao nhiệm vụ cho tỉnh khi phản ánh bị chuyển cấp',
    name_en: 'Task for the province when a report is escalated',
    condition: { event: 'report.escalated', key_field: 'code' },
    actions: [{ type: 'create_task', to: 'province', title_vi: 'Đôn đốc xử lý phản ánh {code} (đơn vị {unit_code})', due_working_days: 2 }],
  },
]

export async function seedRules(ctx: AppContext): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    for (const r of SEED_RULES) {
      checkCondition(r.condition)
      checkActions(r.actions, r.condition)
      const row = await insertRule(tx, { ...r, enabled: true }, ctx.clock())
      if (row) await appendAudit(tx, { actor: 'system', action: 'ioc_rule.created', entityType: 'ioc_rule', entityId: row.id, data: { code: r.code } }, ctx.clock())
    }
  })
}
