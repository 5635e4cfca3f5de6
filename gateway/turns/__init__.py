"""The turn layer: one user turn (`turn`), the ports it is given (`ports`), its one-line
notices (`notices`), and the answers that follow by SMS (`followups`, `composer`)."""
