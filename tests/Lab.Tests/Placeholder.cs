namespace Loadshift.Tests;
