// Process entry of the `breakglass` command (bin/breakglass.js loads the compiled copy).
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
