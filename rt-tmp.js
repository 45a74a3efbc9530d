const { benchModel } = require('./dist/bench/model.js');
benchModel({ budgetMs: 800 }).catch(e => { console.error(e); process.exit(1); });
