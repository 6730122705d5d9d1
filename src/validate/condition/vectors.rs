//! Reference data for the tests: fulfillment strings and condition details with what
//! planetmint-cryptoconditions 1.2.2 and planetmint-transactions 0.8.4 make of them,
//! produced with the Python libraries, not with this module.

/// One fulfillment string and what planetmint-cryptoconditions 1.2.2 says about it:
/// `Fulfillment.from_uri(uri)` succeeds (`parses`), then `.condition_uri`,
/// `.serialize_uri()` (None where Python raises) and `.validate(message=...)`.
/// Reference data produced with the Python library, not with this module.
pub(super) struct Vector {
    pub(super) name: &'static str,
    pub(super) uri: &'static str,
    pub(super) message: &'static str,
    pub(super) parses: bool,
    pub(super) condition: Option<&'static str>,
    pub(super) serialized: Option<&'static str>,
    pub(super) valid: bool,
}

pub(super) const VECTORS: &[Vector] = &[
    // Ed25519Sha256().sign(b'\x02'*32, seed 0x01*32).serialize_uri()
    Vector {
        name: "ed25519_valid",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // same fulfillment, validate(message=b'\x03'*32)
    Vector {
        name: "ed25519_wrong_message",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        message: "0303030303030303030303030303030303030303030303030303030303030303",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: false,
    },
    // Ed25519Sha256().sign(b'\x03'*32, seed 0x01*32).serialize_uri()
    Vector {
        name: "ed25519_signed_other_message",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCK9GGFC8A4NNEpJ-PAdhjGUHx0k5vpFHCX7TE-I0Sc7GsBFr4gm5ci5maCKIrX_H6KNT0RO7Qdm69jK_WSnqsL",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCK9GGFC8A4NNEpJ-PAdhjGUHx0k5vpFHCX7TE-I0Sc7GsBFr4gm5ci5maCKIrX_H6KNT0RO7Qdm69jK_WSnqsL",
        ),
        valid: false,
    },
    // ThresholdSha256(1) + add_subfulfillment(ed25519 seed 0x01)
    Vector {
        name: "threshold_1_of_1",
        uri: "omqgZqRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;2p5dUNpjpaw9c856XVMHUCzxsdsVBhiR9ACe3lytjqs?fpt=threshold-sha-256&cost=132096&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "omqgZqRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
        ),
        valid: true,
    },
    // ThresholdSha256(2) + 2 signed subfulfillments (seeds 0x01, 0x02) + add_subcondition(seed 0x03 condition_uri)
    Vector {
        name: "threshold_2_of_3",
        uri: "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
        ),
        valid: true,
    },
    // ThresholdSha256(1) + 1 signed subfulfillment (seed 0x01) + 2 add_subcondition (seeds 0x02, 0x03)
    Vector {
        name: "threshold_1_of_3",
        uri: "ooG8oGakZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg-hUqQngCDAAptTSQB5jr0s35wNwCnA6Y4L5Zhu6tD86ZkRMOwkUIEDAgAApCeAIMTE9EPtO5PqAZRaREi2oI2tqUo8_dlYpxu-DomUBgsggQMCAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;1zGMpTQ-7PpauDqcD5kpAReD9EO6mQHSZ5Z6LbCP05E?fpt=threshold-sha-256&cost=134144&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "ooG8oGakZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg-hUqQngCDAAptTSQB5jr0s35wNwCnA6Y4L5Zhu6tD86ZkRMOwkUIEDAgAApCeAIMTE9EPtO5PqAZRaREi2oI2tqUo8_dlYpxu-DomUBgsggQMCAAA",
        ),
        valid: true,
    },
    // as threshold_2_of_3 but seed 0x02 signed b'\x03'*32
    Vector {
        name: "threshold_2_of_3_bad_sub",
        uri: "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUAmd0njyeuXmdj4sl9VxmCV4QaHifG2Vv61j1uYI4yGEHqCe9ssDzQg6V577XBOh4_r9HEVIEXGO2gXqQC7IwUDpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUAmd0njyeuXmdj4sl9VxmCV4QaHifG2Vv61j1uYI4yGEHqCe9ssDzQg6V577XBOh4_r9HEVIEXGO2gXqQC7IwUDpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
        ),
        valid: false,
    },
    // ThresholdSha256(2) of [ed25519 seed 0x01, ThresholdSha256(1) of [ed25519 seed 0x02, condition seed 0x03]]
    Vector {
        name: "threshold_nested",
        uri: "ooIBAaCB_KKBk6BmpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAKRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;W9Cf8kthMdrR3R70KBip5H0xdsGwScB50XA35tNqnzY?fpt=threshold-sha-256&cost=266240&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "ooIBAaCB_KKBk6BmpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAKRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
        ),
        valid: true,
    },
    // PreimageSha256(preimage=b'secret').serialize_uri()
    Vector {
        name: "preimage",
        uri: "oAiABnNlY3JldA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols?fpt=preimage-sha-256&cost=6",
        ),
        serialized: Some("oAiABnNlY3JldA"),
        valid: true,
    },
    // PrefixSha256(prefix=b'pre', max_message_length=32) over ed25519 seed 0x01 signing b'pre'+b'\x02'*32
    Vector {
        name: "prefix",
        uri: "oXCAA3ByZYEBIKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;qTn28Mt8la3ogbo5S3thws8Yr3CXGot5rcTVqKHhItw?fpt=prefix-sha-256&cost=132131&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "oXCAA3ByZYEBIKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
        ),
        valid: true,
    },
    // as prefix with max_message_length=0 (Python never checks it)
    Vector {
        name: "prefix_ignores_max_message_length",
        uri: "oXCAA3ByZYEBAKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;KJmDsqJpEeAc_3PacEEQ7weLPFY1QSTu7mTf6MkwPhU?fpt=prefix-sha-256&cost=132099&subtypes=ed25519-sha-256",
        ),
        serialized: Some(
            "oXCAA3ByZYEBAKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
        ),
        valid: true,
    },
    // RsaSha256().sign(b'\x02'*32, fresh 1024-bit key)
    Vector {
        name: "rsa",
        uri: "o4IBBoCBgLr8YOzhtgQNzvQuJB3SXvsAUKtIsByz2JySeFGCKIQYRyEnXLFSWB40VItzGc-y0KlEAZnaWDa8644VEA5jqsA9otT2wm1-mqvYs0x2l3STz_sO3gBb2fqpE7RS4hGk4bKqhbTidfvSOQHWAUwp60KqLWKIC_vfLQu_gIiSHkpvgYGAIcPw0CAzcUfD6ZxgUqyd56KdGBtDVjh3bp7RMREG0nMznTAWVuJfVZ4Bfu5ZL7uxgB2K2QTrJwiseX9tVmRiBTE9bGi_TG2HwMciVRYrzOkDBU_EBcav120yLtYXDcxF3Kg_o-A42wrUcPNHLBAWf-csbOy6ClkwbHlDS5cpFyw",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;tT77i5Nu88zCgr-hpNHE5UJ4LwOG_6hHDwxiVMev5mk?fpt=rsa-sha-256&cost=16384",
        ),
        serialized: Some(
            "o4IBBoCBgLr8YOzhtgQNzvQuJB3SXvsAUKtIsByz2JySeFGCKIQYRyEnXLFSWB40VItzGc-y0KlEAZnaWDa8644VEA5jqsA9otT2wm1-mqvYs0x2l3STz_sO3gBb2fqpE7RS4hGk4bKqhbTidfvSOQHWAUwp60KqLWKIC_vfLQu_gIiSHkpvgYGAIcPw0CAzcUfD6ZxgUqyd56KdGBtDVjh3bp7RMREG0nMznTAWVuJfVZ4Bfu5ZL7uxgB2K2QTrJwiseX9tVmRiBTE9bGi_TG2HwMciVRYrzOkDBU_EBcav120yLtYXDcxF3Kg_o-A42wrUcPNHLBAWf-csbOy6ClkwbHlDS5cpFyw",
        ),
        valid: true,
    },
    // ed25519_valid DER + b'\x00\x01'
    Vector {
        name: "trailing_bytes",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPAAE",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // ed25519_valid DER[:-1]
    Vector {
        name: "truncated",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyo",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // ed25519_valid with its length as 0x81 0x64
    Vector {
        name: "long_form_length",
        uri: "pIFkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qDw",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // ed25519_valid with its tag as 0xbf 0x80 0x04
    Vector {
        name: "long_form_tag",
        uri: "v4AEZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg8",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // 0xa4 0x84 0xff 0xff 0xff 0xff + ed25519_valid content
    Vector {
        name: "huge_length",
        uri: "pIT_____gCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qDw",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // 0xa4 0x80 + content + 0x00 0x00
    Vector {
        name: "indefinite_length",
        uri: "pICAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // ed25519_valid with tag 0x84
    Vector {
        name: "primitive_choice",
        uri: "hGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // ed25519 with a 63-byte signature
    Vector {
        name: "short_signature",
        uri: "pGOAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgT8jxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyo",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // ed25519_valid uri + '=' + 'garbage'
    Vector {
        name: "base64_garbage_after_padding",
        uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP==garbage",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // ed25519_valid uri with -_ replaced by +/
    Vector {
        name: "base64_std_alphabet",
        uri: "pGSAIIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29cgUAjxqZYlQNy4/oipEdiACz37kxO4JLzURA/oBbz0T3prJWx7HenGKOVNT++ECFRaWVx0h92vbAZyt+egnZvLyoP",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
        ),
        valid: true,
    },
    // 'A' * 5
    Vector {
        name: "base64_one_char_too_many",
        uri: "AAAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: false,
        condition: None,
        serialized: None,
        valid: false,
    },
    // prefix whose [2] wrapper is primitive (0x82)
    Vector {
        name: "prefix_primitive_wrapper",
        uri: "oQyAAIEBCoIFoAOAAXg",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;yumgmhxByh7-_2OkSUT1yTfiQkx700qXNzH-q2_VERU?fpt=prefix-sha-256&cost=1035&subtypes=preimage-sha-256",
        ),
        serialized: Some("oQyAAIEBCqIFoAOAAXg"),
        valid: true,
    },
    // prefix whose [2] wrapper holds two fulfillments
    Vector {
        name: "prefix_wrapper_trailing",
        uri: "oXKAAIEBCqJroAOAAXikZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg8",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;yumgmhxByh7-_2OkSUT1yTfiQkx700qXNzH-q2_VERU?fpt=prefix-sha-256&cost=1035&subtypes=preimage-sha-256",
        ),
        serialized: Some("oQyAAIEBCqIFoAOAAXg"),
        valid: true,
    },
    // threshold with no subfulfillments and no subconditions
    Vector {
        name: "threshold_empty",
        uri: "ogSgAKEA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: None,
        serialized: Some("ogSgAKEA"),
        valid: true,
    },
    // threshold over a prefix with max_message_length 2^32-1
    Vector {
        name: "subcondition_cost_over_32_bits",
        uri: "ohagEqEQgACBBQD_____ogWgA4ABeKEA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: None,
        serialized: Some("ohagEqEQgACBBQD_____ogWgA4ABeKEA"),
        valid: true,
    },
    // threshold with a threshold subcondition whose subtypes BIT STRING sets 16 bits
    Vector {
        name: "subtypes_extra_bits",
        uri: "ojWgBaADgAF4oSyiKoAgERERERERERERERERERERERERERERERERERERERERERGBAQWCAwD__w",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;HvQCTjviGRNLlaLJIgivVCM5VvbHyBd25eBfxkClPcs?fpt=threshold-sha-256&cost=2053&subtypes=ed25519-sha-256,prefix-sha-256,preimage-sha-256,rsa-sha-256",
        ),
        serialized: Some(
            "ojSgBaADgAF4oSuiKYAgERERERERERERERERERERERERERERERERERERERERERGBAQWCAgP4",
        ),
        valid: true,
    },
    // threshold subcondition with cost INTEGER of length 0
    Vector {
        name: "integer_empty_and_padded",
        uri: "oi-gBaADgAF4oSakJIAgERERERERERERERERERERERERERERERERERERERERERGBAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;i4k3kdLAEt_57_tSUqoTFffLPP7NsW8ipQstvj4U7NI?fpt=threshold-sha-256&cost=2049&subtypes=ed25519-sha-256,preimage-sha-256",
        ),
        serialized: Some("ojCgBaADgAF4oSekJYAgERERERERERERERERERERERERERERERERERERERERERGBAQA"),
        valid: true,
    },
    // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
    Vector {
        name: "ed25519_noncanonical_s",
        uri: "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggYYCm6v_dd9iXlfi_W2dFcDhj_7V9Wg5fP0Ur9lLuHYZ",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;s6Viqt2MHK28tOtkR3dBsrmKfWpIZ-haVIKp9zC8KXk?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggYYCm6v_dd9iXlfi_W2dFcDhj_7V9Wg5fP0Ur9lLuHYZ",
        ),
        valid: false,
    },
    // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
    Vector {
        name: "ed25519_small_order_key",
        uri: "pGSAIAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgUBYZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;a_zCM3TjxTpuPdFc4q_LVS6szof90Cf0F34olM3dZw8?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgUBYZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        valid: false,
    },
    // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
    Vector {
        name: "ed25519_small_order_r",
        uri: "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKE3tzsqYc2fMX_USHYV-4gphMNpxe9ifEIVxZQf3F8A",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;s6Viqt2MHK28tOtkR3dBsrmKfWpIZ-haVIKp9zC8KXk?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKE3tzsqYc2fMX_USHYV-4gphMNpxe9ifEIVxZQf3F8A",
        ),
        valid: false,
    },
    // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
    Vector {
        name: "ed25519_mixed_order_key",
        uri: "pGSAIEXTpJrg4rVPbxbTxylSdh1PZnTaozyCV-3YucruSug4gUDJo_hqrkZfDlZROGRRDzmXVh-iyeheoh3CKSMJ881gImImneWD6B7L6EDcCAeNEH9qZyUPhBhyWyn-O00JVucG",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;3GvGMShRaHiE18Y7vUunEyLDzox2Hi_8UMkG8bxT2JY?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIEXTpJrg4rVPbxbTxylSdh1PZnTaozyCV-3YucruSug4gUDJo_hqrkZfDlZROGRRDzmXVh-iyeheoh3CKSMJ881gImImneWD6B7L6EDcCAeNEH9qZyUPhBhyWyn-O00JVucG",
        ),
        valid: true,
    },
    // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
    Vector {
        name: "ed25519_noncanonical_key",
        uri: "pGSAIPD_______________________________________9_gUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggZkupU7lEs0KiLrqWo-jNqvhj_7V9Wg5fP0Ur9lLuHYJ",
        message: "0202020202020202020202020202020202020202020202020202020202020202",
        parses: true,
        condition: Some(
            "ni:///sha-256;rp9NwNU0wyJsrlmEkTsXlXW1sL2JRsBBCqqwkkI7Eiw?fpt=ed25519-sha-256&cost=131072",
        ),
        serialized: Some(
            "pGSAIPD_______________________________________9_gUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggZkupU7lEs0KiLrqWo-jNqvhj_7V9Wg5fP0Ur9lLuHYJ",
        ),
        valid: false,
    },
    // cryptography PSS signature (1024-bit key) that starts with 0x00, as signed
    Vector {
        name: "rsa_signature_leading_zero",
        uri: "o4IBBoCBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGAAJpFWg5tHD9qOeRW_RWrWIu8-lx4ghl508Y5mj4QnYe20zSzFbp3YV2xw5ZuNpspig6fX-n-zv64vSmsNEEv-YFW4NBQuh1qtYIr0vMOyF1Qs2Wo3KLCt8qFu5rKZkZQDfT0OekGXfZKgzf-F9Nv9NWCWNCa3V7med_HwQueCNc",
        message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
        parses: true,
        condition: Some(
            "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
        ),
        serialized: Some(
            "o4IBBoCBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGAAJpFWg5tHD9qOeRW_RWrWIu8-lx4ghl508Y5mj4QnYe20zSzFbp3YV2xw5ZuNpspig6fX-n-zv64vSmsNEEv-YFW4NBQuh1qtYIr0vMOyF1Qs2Wo3KLCt8qFu5rKZkZQDfT0OekGXfZKgzf-F9Nv9NWCWNCa3V7med_HwQueCNc",
        ),
        valid: true,
    },
    // same signature without its leading zero byte (OpenSSL takes the shorter number)
    Vector {
        name: "rsa_signature_leading_zero_stripped",
        uri: "o4IBBICBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgX-aRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
        message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
        parses: true,
        condition: Some(
            "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
        ),
        serialized: Some(
            "o4IBBICBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgX-aRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
        ),
        valid: true,
    },
    // same signature with one more zero byte: longer than the modulus
    Vector {
        name: "rsa_signature_zero_prepended",
        uri: "o4IBB4CBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGBAACaRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
        message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
        parses: true,
        condition: Some(
            "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
        ),
        serialized: Some(
            "o4IBB4CBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGBAACaRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
        ),
        valid: false,
    },
];

/// `(name, details JSON, condition URI or error code)`. Each comment names Python's
/// outcome of `_fulfillment_from_details(details).condition_uri`, from
/// planetmint-transactions 0.8.4; keys are base58 public keys of seeds 0x01..0x03.
pub(super) const DETAILS: &[(&str, &str, Result<&str, &str>)] = &[
    // Output.generate([pk1], 1).to_dict()['condition']['details']: a condition
    (
        "single_key",
        r#"{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
        Ok(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
    ),
    // Output.generate([pk1, pk2], 1) details (threshold 2 of 2): a condition
    (
        "two_keys",
        r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}]}"#,
        Ok(
            "ni:///sha-256;scJAoDXv0jWyezkC3-knkaOL9e8prdjNxWg0rtpKJQ4?fpt=threshold-sha-256&cost=264192&subtypes=ed25519-sha-256",
        ),
    ),
    // Output.generate([pk1, [pk2, pk3]], 1) details: a condition
    (
        "nested",
        r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}, {"type": "ed25519-sha-256", "public_key": "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse"}]}]}"#,
        Ok(
            "ni:///sha-256;n3c1OgXg-xdleUArsjkTO1Lj9UumgeUSuaxw_t_tR_s?fpt=threshold-sha-256&cost=397312&subtypes=ed25519-sha-256",
        ),
    ),
    // threshold 1 of three keys: a condition
    (
        "one_of_three",
        r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}, {"type": "ed25519-sha-256", "public_key": "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse"}]}"#,
        Ok(
            "ni:///sha-256;1zGMpTQ-7PpauDqcD5kpAReD9EO6mQHSZ5Z6LbCP05E?fpt=threshold-sha-256&cost=134144&subtypes=ed25519-sha-256",
        ),
    ),
    // threshold true (a bool is an int): a condition
    (
        "threshold_true",
        r#"{"type": "threshold-sha-256", "threshold": true, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
        Ok(
            "ni:///sha-256;2p5dUNpjpaw9c856XVMHUCzxsdsVBhiR9ACe3lytjqs?fpt=threshold-sha-256&cost=132096&subtypes=ed25519-sha-256",
        ),
    ),
    // public_key + U+3000 (str.rstrip strips it): a condition
    (
        "key_trailing_ideographic_space",
        r#"{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9　"}"#,
        Ok(
            "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
        ),
    ),
    // ' ' + public_key: ValueError
    (
        "key_leading_space",
        r#"{"type": "ed25519-sha-256", "public_key": " AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
        Err("bad_key"),
    ),
    // base58 of 31 bytes: ValueError
    (
        "key_31_bytes",
        r#"{"type": "ed25519-sha-256", "public_key": "5SV2hdVK1ZezefdyJMyk8fvkE9qZvZshnqmvg28eJp"}"#,
        Err("bad_key"),
    ),
    // base58 of 32 zero bytes ('1' * 32): a condition
    (
        "key_all_zero",
        r#"{"type": "ed25519-sha-256", "public_key": "11111111111111111111111111111111"}"#,
        Ok(
            "ni:///sha-256;45inuPYM26yp-YOe0nXZfAc_4RmQYFBzDVjnoQw5UAo?fpt=ed25519-sha-256&cost=131072",
        ),
    ),
    // public_key with '0': ValueError
    (
        "key_not_base58",
        r#"{"type": "ed25519-sha-256", "public_key": "0KnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
        Err("bad_key"),
    ),
    // public_key 5: AttributeError
    (
        "key_not_string",
        r#"{"type": "ed25519-sha-256", "public_key": 5}"#,
        Err("bad_key"),
    ),
    // no public_key: KeyError
    (
        "missing_public_key",
        r#"{"type": "ed25519-sha-256"}"#,
        Err("missing_key"),
    ),
    // no type: KeyError
    (
        "missing_type",
        r#"{"public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
        Err("missing_key"),
    ),
    // threshold without subconditions: KeyError
    (
        "missing_subconditions",
        r#"{"type": "threshold-sha-256", "threshold": 1}"#,
        Err("missing_key"),
    ),
    // KeyError deep inside wins over an unmet threshold: KeyError
    (
        "missing_nested_key",
        r#"{"type": "threshold-sha-256", "threshold": 5, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256"}]}"#,
        Err("missing_key"),
    ),
    // zenroom-sha-256: UnsupportedTypeError
    (
        "unsupported_type",
        r#"{"type": "zenroom-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
        Err("unsupported_type"),
    ),
    // threshold 0: ValueError
    (
        "threshold_zero",
        r#"{"type": "threshold-sha-256", "threshold": 0, "subconditions": []}"#,
        Err("bad_threshold"),
    ),
    // threshold 1.0: ValueError
    (
        "threshold_float",
        r#"{"type": "threshold-sha-256", "threshold": 1.0, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
        Err("bad_threshold"),
    ),
    // threshold null: TypeError
    (
        "threshold_null",
        r#"{"type": "threshold-sha-256", "threshold": null, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
        Err("threshold_out_of_range"),
    ),
    // threshold 2 of 1: MissingDataError
    (
        "threshold_not_met",
        r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
        Err("threshold_not_met"),
    ),
    // threshold 65536: ValueConstraintError
    (
        "threshold_too_large",
        r#"{"type": "threshold-sha-256", "threshold": 65536, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
        Err("threshold_out_of_range"),
    ),
    // subconditions '' iterates nothing: MissingDataError
    (
        "subconditions_empty_string",
        r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": ""}"#,
        Err("threshold_not_met"),
    ),
    // subconditions 'ab' iterates characters: TypeError
    (
        "subconditions_string",
        r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": "ab"}"#,
        Err("bad_details"),
    ),
    // details is a list: TypeError
    ("not_an_object", r#"[]"#, Err("bad_details")),
];
