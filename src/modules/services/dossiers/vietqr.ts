/**
 * VietQR (NAPAS 247, EMVCo merchant-presented QR) payload for a fee: transfer `amount` VND to the
 * unit's account with the dossier code as the purpose. Any Vietnamese banking app scans it.
 */
function tlv(id: string, value: string): string {
  return `${id}${String(value.length).padStart(2, '0')}${value}`
}

/** CRC-16/CCITT-FALSE, as EMVCo requires, in upper-case hex. */
export function crc16(s: string): string {
  let crc = 0xffff
  for (const b of Buffer.from(s, 'utf8')) {
    crc ^= b << 8
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc.toString(16).toUpperCase().padStart(4, '0')
}

export function vietQrPayload(a: { bankBin: string; accountNo: string; amountVnd: number; purpose: string }): string {
  const merchant = tlv('00', 'A000000727') + tlv('01', tlv('00', a.bankBin) + tlv('01', a.accountNo)) + tlv('02', 'QRIBFTTA')
  const purpose = a.purpose.replace(/[^\x20-\x7e]/g, '').slice(0, 25)
  const body = tlv('00', '01') + tlv('01', a.amountVnd > 0 ? '12' : '11') + tlv('38', merchant) + tlv('53', '704')
    + (a.amountVnd > 0 ? tlv('54', String(Math.round(a.amountVnd))) : '') + tlv('58', 'VN') + tlv('62', tlv('08', purpose)) + '6304'
  return body + crc16(body)
}
