import type { Module } from '../platform/module.ts'
import { calendarModule } from './calendar/index.ts'
import { documentsModule } from './documents/index.ts'
import { geoModule } from './geo/index.ts'
import { identityModule } from './identity/index.ts'
import { iocModule } from './ioc/index.ts'
import { reportsModule } from './reports/index.ts'
import { servicesModule } from './services/index.ts'

/**
 * Every module, mounted in this order: migrations, reference data and routes follow it.
 * geo comes first because identity mirrors its administrative units as org units.
 */
export const allModules: Module[] = [geoModule, identityModule, calendarModule, reportsModule, documentsModule, servicesModule, iocModule]

export { principalResolver } from './identity/index.ts'
