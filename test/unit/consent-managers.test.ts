import { describe, expect, it } from 'vitest';
import { consentModeGiven, consentModeState, tcfConsent } from '../../widget/loader/consent-managers.ts';

/** gtag() pushes its arguments object, not an array. */
function gtagArgs(..._args: unknown[]): IArguments {
  // biome-ignore lint/complexity/noArguments: gtag's own shape is an arguments object
  return arguments;
}

describe("reading a page's consent manager (the pages themselves: journeys.spec.ts in three engines)", () => {
  it('TCF v2.2: purposes 1, 3 and 4 by the publisher or the purposes; given where GDPR does not apply', () => {
    const all = { '1': true, '3': true, '4': true };
    expect(tcfConsent({ gdprApplies: true, purpose: { consents: all } })).toBe(true);
    expect(tcfConsent({ gdprApplies: true, publisher: { consents: all } })).toBe(true);
    expect(tcfConsent({ gdprApplies: true, purpose: { consents: { '1': true, '3': true } } })).toBe(false);
    expect(tcfConsent({ gdprApplies: true })).toBe(false);
    expect(tcfConsent({ gdprApplies: false })).toBe(true);
  });

  it('Consent Mode v2: the last default or update of each signal wins; both ad_storage and ad_personalization needed', () => {
    const layer: unknown[] = [
      gtagArgs('consent', 'default', { ad_storage: 'denied', ad_personalization: 'denied' }),
      gtagArgs('js', new Date()),
      { event: 'gtm.js' },
    ];
    expect(consentModeGiven(consentModeState(layer))).toBe(false);
    layer.push(gtagArgs('consent', 'update', { ad_storage: 'granted' }));
    expect(consentModeGiven(consentModeState(layer))).toBe(false);
    layer.push(gtagArgs('consent', 'update', { ad_personalization: 'granted' }));
    expect(consentModeState(layer)).toMatchObject({ ad_storage: 'granted', ad_personalization: 'granted' });
    expect(consentModeGiven(consentModeState(layer))).toBe(true);
    layer.push(gtagArgs('consent', 'update', { ad_personalization: 'denied' }));
    expect(consentModeGiven(consentModeState(layer))).toBe(false);
    // An array pushed by hand reads the same; junk is skipped.
    expect(
      consentModeGiven(
        consentModeState([['consent', 'default', { ad_storage: 'granted', ad_personalization: 'granted' }], null, 7, ['consent', 'update', 'x']]),
      ),
    ).toBe(true);
  });
});
