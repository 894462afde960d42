// Entry of the server-rendered public pages (/ and /o/{slug}). They run no script: Go links only
// the CSS this entry produces, listed under "src/public.ts" in dist/.vite/manifest.json.
import './public.css'
