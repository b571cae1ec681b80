/**
 * VNCR layouts: which registers have a slot in the VNCR page, and at which byte offset. A slot is
 * keyed by the EL0 name of the EL1 timer register (or CNTVOFF_EL2 / CNTPOFF_EL2); the register
 * table says which names it serves under which HCR_EL2.NV1. The catalogue, the file format and the
 * loader are in models/layouts/.
 */

export const VNCR_PAGE_BYTES = 4096;

export interface Layout {
  readonly name: string;
  readonly description: string;
  /** Slot key -> byte offset in the VNCR page. */
  readonly slots: ReadonlyMap<string, number>;
  /** Where the layout came from (catalogue file or user file), for messages. */
  readonly source: string;
}
