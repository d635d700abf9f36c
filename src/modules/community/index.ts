import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { seedDemoCommunity } from './demo-seed.ts'
import { communityRoutePolicy, communityRoutes } from './routes.ts'

/** community: community digital technology teams (tổ công nghệ số cộng đồng), their help, consents and campaigns. */
export const communityModule: Module = {
  name: 'community',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  routes: communityRoutes,
  seedDemo: seedDemoCommunity,
  routePolicy: communityRoutePolicy,
  examplePathParams: {},
}

// For the IOC and the monthly analysis.
export { campaignProgress, coverageByCommune, listCampaigns, teamRegistry, villagesWithoutTeam, ACTIVITY_KINDS, type TeamRegistryRow, type ActivityKind, type CampaignProgress, type CommuneCoverage } from './community.ts'
