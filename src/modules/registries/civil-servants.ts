import type { FieldDef, RegistrySchema } from './schema.ts'

const s = (name: string, label_vi: string, label_en: string, access: FieldDef['access'], extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'string', label_vi, label_en, access, max_length: 300, ...extra })

/**
 * The registry of cadres, civil servants and public employees (cán bộ, công chức, viên chức),
 * owned by the Department of Home Affairs (Sở Nội vụ). Agencies see the shared fields; personal
 * and salary data are restricted to the owner (and the person's own unit through its routes).
 */
export const CIVIL_SERVANT_SCHEMA: RegistrySchema = {
  name: 'civil_servants',
  title_vi: 'Cơ sở dữ liệu cán bộ, công chức, viên chức',
  title_en: 'Cadres, civil servants and public employees',
  description: 'Hồ sơ cán bộ, công chức, viên chức tỉnh Điện Biên; đồng bộ với CSDL quốc gia của Bộ Nội vụ.',
  owner_unit: '11.SNV',
  access: 'shared',
  key_fields: ['code'],
  schema_version: 1,
  fields: [
    s('code', 'Số hiệu cán bộ, công chức', 'Civil servant number', 'shared', { required: true, pattern: '[0-9A-Z.\\-]{3,30}' }),
    s('full_name', 'Họ và tên', 'Full name', 'shared', { required: true, max_length: 120 }),
    { name: 'date_of_birth', type: 'date', label_vi: 'Ngày sinh', label_en: 'Date of birth', access: 'restricted', required: true, min: 1940, max: 2015 },
    { name: 'gender', type: 'enum', label_vi: 'Giới tính', label_en: 'Gender', access: 'shared', values: ['nam', 'nu'] },
    s('ethnicity', 'Dân tộc', 'Ethnicity', 'restricted', { max_length: 40 }),
    s('id_number', 'Số định danh cá nhân', 'Personal ID number', 'restricted', { pattern: '[0-9]{12}' }),
    s('phone', 'Điện thoại', 'Phone', 'restricted', { pattern: '\\+?[0-9 .-]{6,20}' }),
    s('email', 'Thư điện tử công vụ', 'Official e-mail', 'shared', { max_length: 200 }),
    { name: 'category', type: 'enum', label_vi: 'Loại (cán bộ / công chức / viên chức)', label_en: 'Category', access: 'shared', required: true, values: ['can_bo', 'cong_chuc', 'vien_chuc'] },
    s('unit_code', 'Cơ quan, đơn vị công tác', 'Unit', 'shared', { required: true, max_length: 32 }),
    s('position', 'Chức vụ', 'Position', 'shared', { max_length: 200 }),
    { name: 'position_since', type: 'date', label_vi: 'Giữ chức vụ từ', label_en: 'Position since', access: 'shared' },
    s('rank_code', 'Mã ngạch', 'Civil-service rank code (ngạch)', 'shared', { pattern: '[0-9A-Z.]{2,12}' }),
    s('rank_name', 'Tên ngạch', 'Rank name', 'shared', { max_length: 200 }),
    { name: 'rank_since', type: 'date', label_vi: 'Bổ nhiệm ngạch từ', label_en: 'Rank since', access: 'shared' },
    { name: 'salary_grade', type: 'integer', label_vi: 'Bậc lương', label_en: 'Salary grade (bậc)', access: 'restricted', min: 1, max: 16 },
    { name: 'salary_coefficient', type: 'number', label_vi: 'Hệ số lương', label_en: 'Salary coefficient', access: 'restricted', min: 1, max: 10 },
    { name: 'grade_since', type: 'date', label_vi: 'Hưởng bậc từ', label_en: 'Grade since', access: 'restricted' },
    {
      name: 'qualifications', type: 'list', label_vi: 'Trình độ chuyên môn', label_en: 'Qualifications', access: 'shared', max_items: 30,
      item_fields: [s('level', 'Trình độ', 'Level', 'shared', { required: true, max_length: 60 }), s('major', 'Chuyên ngành', 'Major', 'shared', { max_length: 200 }), s('institution', 'Cơ sở đào tạo', 'Institution', 'shared'), { name: 'year', type: 'integer', label_vi: 'Năm', label_en: 'Year', access: 'shared', min: 1950, max: 2100 }],
    },
    {
      name: 'training', type: 'list', label_vi: 'Bồi dưỡng', label_en: 'Training', access: 'shared', max_items: 100,
      item_fields: [s('course', 'Khoá', 'Course', 'shared', { required: true }), { name: 'from', type: 'date', label_vi: 'Từ', label_en: 'From', access: 'shared' }, { name: 'to', type: 'date', label_vi: 'Đến', label_en: 'To', access: 'shared' }, s('certificate', 'Chứng chỉ', 'Certificate', 'shared')],
    },
    {
      name: 'appraisals', type: 'list', label_vi: 'Đánh giá, xếp loại hằng năm', label_en: 'Yearly appraisals', access: 'restricted', max_items: 60,
      item_fields: [{ name: 'year', type: 'integer', label_vi: 'Năm', label_en: 'Year', access: 'restricted', required: true, min: 1990, max: 2100 }, { name: 'result', type: 'enum', label_vi: 'Xếp loại', label_en: 'Result', access: 'restricted', required: true, values: ['xuat_sac', 'tot', 'hoan_thanh', 'khong_hoan_thanh'] }],
    },
    {
      name: 'rewards', type: 'list', label_vi: 'Khen thưởng', label_en: 'Rewards', access: 'shared', max_items: 100,
      item_fields: [s('title', 'Hình thức', 'Title', 'shared', { required: true }), s('decision', 'Quyết định', 'Decision', 'shared'), { name: 'date', type: 'date', label_vi: 'Ngày', label_en: 'Date', access: 'shared' }],
    },
    {
      name: 'discipline', type: 'list', label_vi: 'Kỷ luật', label_en: 'Discipline', access: 'restricted', max_items: 50,
      item_fields: [s('form', 'Hình thức', 'Form', 'restricted', { required: true }), s('decision', 'Quyết định', 'Decision', 'restricted'), { name: 'date', type: 'date', label_vi: 'Ngày', label_en: 'Date', access: 'restricted' }],
    },
    { name: 'status', type: 'enum', label_vi: 'Tình trạng', label_en: 'Status', access: 'shared', values: ['dang_cong_tac', 'nghi_huu', 'thoi_viec', 'tu_tran'] },
  ],
}
