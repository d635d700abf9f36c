/**
 * Citizen data store (kho dữ liệu của công dân, issue 6 §2): each person's own uploads plus the
 * files of their past dossiers, reusable as components of a new dossier without uploading again.
 */
export { citizenStoreRoutes } from './routes.ts'
export { countReusedComponents, getStoreItem, listStoreItems, type StoreItem } from './repository.ts'
