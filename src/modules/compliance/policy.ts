/** A policy rule, as stored in compliance_rules. */
export interface Rule {
  code: string
  subject_kind: 'unit' | 'system'
  check_name: CheckName
  params: Record<string, number>
  grace_working_days: number
  title_vi: string
  title_en: string
  fix_vi: string
  fix_en: string
  enabled: boolean
}

export type CheckName = 'no_approved_level' | 'reassessment_overdue' | 'monitoring_contract_expired' | 'antimalware_coverage_low' | 'agent_signatures_stale'

/** The five example rules, loaded as reference data (an administrator may tune them in the table). */
export const DEFAULT_RULES: Rule[] = [
  {
    code: 'NO_APPROVED_LEVEL', subject_kind: 'system', check_name: 'no_approved_level', params: {}, grace_working_days: 10,
    title_vi: 'Hệ thống chưa được phê duyệt cấp độ an toàn', title_en: 'System has no approved security level',
    fix_vi: 'Lập hồ sơ đề xuất cấp độ và ghi số, ngày quyết định phê duyệt tại /api/compliance/systems', fix_en: 'Have the security level approved and record the decision at /api/compliance/systems',
    enabled: true,
  },
  {
    code: 'REASSESSMENT_OVERDUE', subject_kind: 'system', check_name: 'reassessment_overdue', params: { overdue_days: 30 }, grace_working_days: 10,
    title_vi: 'Quá hạn đánh giá lại trên 30 ngày', title_en: 'Re-assessment overdue by more than 30 days',
    fix_vi: 'Thực hiện kiểm tra, đánh giá độc lập và cập nhật ngày đánh giá', fix_en: 'Have the independent assessment done and record its date',
    enabled: true,
  },
  {
    code: 'MONITORING_CONTRACT_EXPIRED', subject_kind: 'unit', check_name: 'monitoring_contract_expired', params: {}, grace_working_days: 5,
    title_vi: 'Hợp đồng giám sát an toàn thông tin đã hết hạn', title_en: 'Security monitoring contract expired',
    fix_vi: 'Gia hạn hợp đồng giám sát và cập nhật ngày hết hạn tại /api/compliance/units', fix_en: 'Renew the monitoring contract and record its end date at /api/compliance/units',
    enabled: true,
  },
  {
    code: 'ANTIMALWARE_COVERAGE', subject_kind: 'unit', check_name: 'antimalware_coverage_low', params: { min_coverage: 1, days: 7, heartbeat_max_age_hours: 24 }, grace_working_days: 3,
    title_vi: 'Tỷ lệ máy có phần mềm phòng chống mã độc tập trung dưới 100% trong 7 ngày', title_en: 'Anti-malware coverage below 100% for 7 days',
    fix_vi: 'Cài đặt và kết nối phần mềm phòng chống mã độc tập trung trên mọi máy đã đăng ký', fix_en: 'Install the central anti-malware agent on every registered computer and let it report',
    enabled: true,
  },
  {
    code: 'AGENT_SIGNATURES_STALE', subject_kind: 'unit', check_name: 'agent_signatures_stale', params: { max_age_days: 3 }, grace_working_days: 3,
    title_vi: 'Mẫu nhận diện mã độc cũ hơn 3 ngày', title_en: 'Agent signatures older than 3 days',
    fix_vi: 'Cập nhật mẫu nhận diện trên các máy được nêu', fix_en: 'Update the signatures on the computers listed',
    enabled: true,
  },
]
