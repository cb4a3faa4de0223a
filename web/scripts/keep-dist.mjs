// Vite empties dist/ before each build; put back the committed placeholder so
// `git status` stays clean and an unbuilt checkout keeps compiling (web.go
// embeds dist/, and go:embed needs at least one file there).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

writeFileSync(fileURLToPath(new URL('../dist/.gitkeep', import.meta.url)), '')
