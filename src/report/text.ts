/** Plain-text tables for terminals and logs. */
export { maskedHex } from '../../models/arch/bits.js';
export { obsText, opCells, table } from '../trace/text.js';
