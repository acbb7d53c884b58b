import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXml, xmlEscape } from './xml.ts';

test('parses elements, namespaces prefixes, entities, CDATA and comments', () => {
  const root = parseXml(
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><r:Root xmlns:r="urn:x" a=\'1\'><A>x &amp; y &#65;&#x42;</A><B/><C><![CDATA[<raw>]]></C><!-- inner --><D> <E>e</E> </D></r:Root>\n',
  );
  assert.equal(root.name, 'Root');
  assert.deepEqual(
    root.children.map((c) => [c.name, c.text]),
    [
      ['A', 'x & y AB'],
      ['B', ''],
      ['C', '<raw>'],
      ['D', '  '],
    ],
  );
  assert.equal(root.children[3]!.children[0]!.text, 'e');
});

test('rejects malformed documents and DTDs', () => {
  for (const bad of ['<a><b></a>', '<a>', 'text', '<a></a><b></b>', '<!DOCTYPE x [<!ENTITY e "x">]><a/>', '<a x=1/>', '']) {
    assert.throws(() => parseXml(bad), /malformed XML/, bad);
  }
});

test('escapes text and attribute values', () => {
  assert.equal(xmlEscape('a<b>&"c"\r\n\'d\''), 'a&lt;b&gt;&amp;&quot;c&quot;&#13;\n\'d\'');
  assert.equal(xmlEscape('plain'), 'plain');
});
