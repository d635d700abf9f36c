import type { Module } from '../platform/module.ts'
import { calendarModule } from './calendar/index.ts'
import { communityModule } from './community/index.ts'
import { complianceModule } from './compliance/index.ts'
import { dataModule } from './data/index.ts'
import { directChannelModule } from './direct-channel/index.ts'
import { documentsModule } from './documents/index.ts'
import { exchangeModule } from './exchange/index.ts'
import { geoModule } from './geo/index.ts'
import { identityModule } from './identity/index.ts'
import { iocModule } from './ioc/index.ts'
import { iocRulesModule } from './ioc/rules/index.ts'
import { registriesModule } from './registries/index.ts'
import { reportsModule } from './reports/index.ts'
import { servicesModule } from './services/index.ts'

/**
 * Every module, mounted in this order: migrations, reference data and routes follow it.
 * geo comes first because identity mirrors its administrative units as org units; the modules
 * after services build on the ones before them (data publishes their datasets, the IOC reads
 * their events).
 */
export const allModules: Module[] = [
  geoModule,
  identityModule,
  calendarModule,
  reportsModule,
  documentsModule,
  servicesModule,
  dataModule,
  exchangeModule,
  complianceModule,
  registriesModule,
  directChannelModule,
  communityModule,
  iocModule,
  iocRulesModule,
]

export { principalResolver } from './identity/index.ts'
