import { bundleFunction } from './build';
bundleFunction(process.argv[2], process.argv[3]).then((r) => console.log(r.bytes));
