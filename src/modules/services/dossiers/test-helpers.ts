import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { Module } from '../../../platform/module.ts'
import { catalogueRoutes, DATA_FILE, saveFeePolicy, saveProcedureVersion, seedProcedures } from '../catalogue/index.ts'
import type { ProcedureVersion } from './catalogue-port.ts'
import { dossierRoutes, setupDossierJobs } from './index.ts'
import { citizenStoreRoutes } from '../citizen-store/index.ts'

/** The services module as the tests mount it: the catalogue and dossier routes on the services migrations. */
export const testServicesModule: Module = {
  name: 'services',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  async routes(app, ctx) {
    await catalogueRoutes(app, ctx)
    await dossierRoutes(app, ctx)
    await citizenStoreRoutes(app, ctx)
  },
  setup: setupDossierJobs,
  async seedReference(ctx) {
    if (existsSync(DATA_FILE)) await seedProcedures(ctx)
  },
}

export const wd = (amount: number) => ({ amount, unit: 'working_days' as const })

/** A test procedure version, with the fields the dossier tests need. */
export function testProcedure(code: string, over: Partial<ProcedureVersion> = {}): ProcedureVersion {
  return {
    procedure_code: code,
    version: 1,
    valid_from: '2020-01-01',
    valid_to: null,
    name_vi: 'Đăng ký khai sinh (thử nghiệm)',
    name_en: 'Birth registration (test)',
    field: 'test_field',
    level: 'commune',
    handling_unit: 'commune',
    components: [
      { key: 'to_khai', name_vi: 'Tờ khai đăng ký khai sinh', name_en: 'Application form', required: true, template_url: null, formats: ['pdf'], max_bytes: 200_000 },
      { key: 'anh', name_vi: 'Ảnh giấy chứng sinh', name_en: 'Birth certificate photo', required: false, template_url: null, formats: ['jpg', 'png'], max_bytes: 100_000 },
    ],
    legal_basis: ['Luật Hộ tịch 2014'],
    duration: { online: wd(3), in_person: wd(3) },
    priority: false,
    priority_duration: null,
    fee_vnd: 0,
    fully_online: false,
    steps: [
      { key: 'handle', name_vi: 'Thụ lý', name_en: 'Handle', share: 0.6 },
      { key: 'sign', name_vi: 'Ký duyệt', name_en: 'Sign', share: 0.4 },
    ],
    ...over,
  }
}

export async function saveTestProcedures(db: Db, versions: ProcedureVersion[]): Promise<void> {
  await sql`insert into procedure_fields (code, name_vi, name_en) values ('test_field', 'Lĩnh vực thử nghiệm', 'Test field') on conflict do nothing`.execute(db)
  for (const v of versions) await saveProcedureVersion(db, v)
}

export { saveFeePolicy }

export { multipart } from '../../../platform/testing/multipart.ts'

export const PDF_BYTES = Buffer.from('%PDF-1.4\n% test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')
export const PNG_BYTES = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)])
