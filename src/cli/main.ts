// The localeks command line (see issue: foundation; serve lands first).
console.log('localeks: no commands yet');
