// The API's shared shapes live at the root (api-schemas.ts), where the domain folders (reports,
// alarms) may import them without depending on the routes.
export { ErrorSchema, IsoTimeSchema, limitSchema } from '../api-schemas.js';
