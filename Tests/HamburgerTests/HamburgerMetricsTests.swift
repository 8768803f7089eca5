import Engine
import OpenAIAPI
import Testing

/// The HAMburger counters of `EngineStats` and their Prometheus rendering.
struct HamburgerMetricsTests {
    /// Three macro steps of 2, 1 and 4 tokens with K = 4.
    static func stats() -> EngineStats {
        var stats = EngineStats(kvBlocksTotal: 8, kvBlockSize: 16)
        for k in [2, 1, 4] { stats.recordMacroStep(tokenCount: k, maxSteps: 4) }
        return stats
    }

    @Test func statsCountStepsDraftsAndAcceptedPositions() {
        let stats = Self.stats()
        #expect(stats.hamburgerMacroStepsTotal == 3)
        #expect(stats.hamburgerTokensTotal == 7)
        #expect(stats.hamburgerDraftsTotal == 3)
        #expect(stats.hamburgerDraftTokensTotal == 9)
        #expect(stats.hamburgerAcceptedTokensTotal == 4)
        #expect(stats.hamburgerAcceptedTokensPerPosition == [2, 1, 1])
        #expect(stats.hamburgerTokensPerStep.counts == [1, 1, 0, 1, 0, 0, 0, 0, 0])
        #expect(abs(stats.hamburgerKVEntriesPerGeneratedToken - 3.0 / 7.0) < 1e-12)
    }

    @Test func prometheusTextCarriesTheHamburgerSeries() {
        let metrics = APIMetrics()
        var stats = Self.stats()
        _ = metrics.render(stats: stats)
        stats.recordMacroStep(tokenCount: 3, maxSteps: 4)
        let text = metrics.render(stats: stats)
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("hamburger:macro_steps_total 4"), "\(text)")
        #expect(lines.contains("hamburger:spec_decode_num_drafts_total 4"))
        #expect(lines.contains("hamburger:spec_decode_num_draft_tokens_total 12"))
        #expect(lines.contains("hamburger:spec_decode_num_accepted_tokens_total 6"))
        #expect(lines.contains(#"hamburger:spec_decode_num_accepted_tokens_per_pos{position="0"} 3"#))
        #expect(lines.contains(#"hamburger:spec_decode_num_accepted_tokens_per_pos{position="2"} 1"#))
        #expect(lines.contains("hamburger:tokens_per_step_count 4"))
        #expect(lines.contains("hamburger:tokens_per_step_sum 10.0"))
        #expect(lines.contains { $0.hasPrefix("hamburger:kv_entries_per_generated_token 0.4") })
    }
}
