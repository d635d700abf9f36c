import { badRequest } from '../../platform/http/errors.ts'
import type { LocateResult } from '../geo/index.ts'
import type { Category } from './categories.ts'

export interface RoutingInput {
  /** Locate result for the report's position, when it has one. */
  located: LocateResult | null
  /** Commune the citizen picked by hand, if any. */
  pickedCommune: { code: string } | null
  category: Category
  provinceCode: string
}

export interface RoutingDecision {
  communeCode: string | null
  unitCode: string
  locateStatus: 'inside' | 'nearest' | 'manual' | 'unlocated'
  nearBorder: boolean
  distanceToBorderM: number | null
  boundaryVersion: string | null
}

/**
 * Decides, in the intake request itself, which commune a report is in and which unit's queue
 * it goes to: locate the point (a point within 500 m outside goes to the nearest commune); a
 * point farther out is refused unless the citizen picked a commune, in which case it waits in
 * the province's "unlocated" queue; then the category decides commune or department.
 */
export function routeReport(input: RoutingInput): RoutingDecision {
  const { located, pickedCommune, category, provinceCode } = input
  let d: Omit<RoutingDecision, 'unitCode'>
  if (located && located.unit) {
    d = {
      communeCode: located.unit.code,
      locateStatus: located.status === 'inside' ? 'inside' : 'nearest',
      nearBorder: located.near_border || located.status === 'nearest',
      distanceToBorderM: located.distance_to_border_m,
      boundaryVersion: located.boundary_version,
    }
  } else if (located && pickedCommune) {
    d = { communeCode: pickedCommune.code, locateStatus: 'unlocated', nearBorder: false, distanceToBorderM: null, boundaryVersion: null }
  } else if (located) {
    throw badRequest(
      'OUTSIDE_PROVINCE',
      'Vị trí nằm ngoài địa bàn tỉnh. Hãy kiểm tra lại vị trí hoặc chọn xã/phường.',
      'The position is outside the province. Check the position or pick a commune.',
      { distance_m: located.nearest?.distance_m ?? null },
    )
  } else if (pickedCommune) {
    d = { communeCode: pickedCommune.code, locateStatus: 'manual', nearBorder: false, distanceToBorderM: null, boundaryVersion: null }
  } else {
    throw badRequest('LOCATION_REQUIRED', 'Cần vị trí (GPS hoặc ảnh có GPS) hoặc chọn xã/phường.', 'A position (GPS or a photo with GPS) or a commune is required.')
  }
  const unitCode =
    category.handling === 'department' && category.department_code
      ? category.department_code
      : d.locateStatus === 'unlocated'
        ? provinceCode
        : d.communeCode!
  return { ...d, unitCode }
}
