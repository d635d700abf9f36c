import { Type } from 'typebox'

/** The one error shape, for response schemas. */
export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message_vi: Type.String(),
    message_en: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
})
