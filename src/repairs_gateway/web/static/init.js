// GOV.UK Frontend's components, started from a file so the CSP needs no inline script.
import { initAll } from "/govuk-frontend/govuk-frontend.min.js";

initAll();
