// Jurisdictions are ISO 3166-1 alpha-2 country codes: placement rules ("one copy outside the EU",
// "never in XX") compare them, so a typo must be refused when a site is registered, not found
// when a contract meets it. The list is the 249 officially assigned codes, kept here rather than
// taken from ICU, which also knows UK, EU, XK, ZZ and withdrawn codes.
import { UsageError } from '../core/errors.ts';

const ASSIGNED = new Set(
  `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
   BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH
   ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
   HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
   LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI
   NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
   SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
   UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`.split(/\s+/),
);

// Codes people write that ISO does not assign to a country.
const INSTEAD: Record<string, string> = { UK: 'GB', EL: 'GR' };

let names: Intl.DisplayNames | undefined;

/** The English name of an assigned code ("DE" → "Germany"), when the runtime knows it. */
export function jurisdictionName(code: string): string | undefined {
  if (!ASSIGNED.has(code)) return undefined;
  try {
    names ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const name = names.of(code);
    return name === code ? undefined : name;
  } catch {
    return undefined;
  }
}

/** Checks a jurisdiction, returning it unchanged; a UsageError naming `flag` otherwise. */
export function parseJurisdiction(text: string, flag = '--jurisdiction'): string {
  if (ASSIGNED.has(text)) return text;
  throw new UsageError(`${flag} ${JSON.stringify(text)} is not an ISO 3166-1 alpha-2 country code`, {
    hint: suggestion(text) ?? 'use the two capital letters of the country, like DE, FR, US or JP',
  });
}

function suggestion(text: string): string | undefined {
  const upper = text.trim().toUpperCase();
  const instead = INSTEAD[upper];
  if (instead !== undefined) return `${upper} is not an ISO 3166-1 code; did you mean ${instead} (${jurisdictionName(instead) ?? instead})?`;
  if (ASSIGNED.has(upper)) return `write it in capitals: ${upper}`;
  // A country's name instead of its code: "china" → CN.
  const wanted = text.trim().toLowerCase();
  if (wanted.length > 2) {
    for (const code of ASSIGNED) {
      const name = jurisdictionName(code);
      if (name !== undefined && name.toLowerCase() === wanted) return `did you mean ${code} (${name})?`;
    }
  }
  return undefined;
}
