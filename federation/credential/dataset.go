package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// errJSONLiteral makes toDataset hand a document with an @json literal to
// json-gold's own ToRDF, which canonicalises the JSON (JCS) with code of
// its own that is not exported.
var errJSONLiteral = errors.New("document has a JSON literal")

// ErrRelativeListItem means a JSON-LD list holds a node whose id is a
// relative IRI. json-gold turns it into a statement without an object and
// then panics while canonicalising; colearn refuses the document instead.
var ErrRelativeListItem = errors.New("a list holds a node with a relative IRI")

// toDataset is json-gold's ld.(*JsonLdApi).ToRDF (JSON-LD 1.1 API,
// "Deserialize JSON-LD to RDF", in ld/api_to_rdf.go, ld/rdf_dataset.go
// GraphToRDF and ld/node.go objectToRDF of v0.9.1), statement for
// statement, except that IRI verdicts (ld.IsURL's and ld.IsRelativeIri's)
// come from c.iris and that a list item with a relative IRI is refused
// (ErrRelativeListItem). It builds the same
// node map with json-gold's GenerateNodeMap; TestDatasetMatchesJSONGold
// and FuzzDatasetMatchesJSONGold hold it to json-gold's output.
func (c *Canonicalizer) toDataset(api *ld.JsonLdApi, input []any) (*ld.RDFDataset, error) {
	issuer := ld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{"@default": map[string]any{}}
	if _, err := api.GenerateNodeMap(input, nodeMap, "@default", issuer, "", "", nil); err != nil {
		return nil, err
	}
	ds := ld.NewRDFDataset()
	names := ld.GetKeys(nodeMap)
	slices.Sort(names)
	for _, name := range names {
		if c.iris.relativeIRI(name) {
			continue
		}
		quads, err := c.graphToRDF(name, nodeMap[name].(map[string]any), issuer)
		if err != nil {
			return nil, err
		}
		ds.Graphs[name] = quads
	}
	return ds, nil
}

func (c *Canonicalizer) graphToRDF(graphName string, graph map[string]any, issuer *ld.IdentifierIssuer) ([]*ld.Quad, error) {
	var triples []*ld.Quad
	for _, id := range ld.GetOrderedKeys(graph) {
		if c.iris.relativeIRI(id) {
			continue
		}
		node, ok := graph[id].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("node map: node %s is not an object", id)
		}
		subject := resource(id)
		for _, property := range ld.GetOrderedKeys(node) {
			values, ok := node[property].([]any)
			switch {
			case property == "@type":
				property = ld.RDFType
			case ld.IsKeyword(property), strings.HasPrefix(property, "_:"), c.iris.relativeIRI(property):
				continue // produceGeneralizedRdf is off
			}
			if !ok {
				return nil, fmt.Errorf("node map: %s of %s is not a list", property, id)
			}
			predicate := resource(property)
			for _, item := range values {
				object, more, err := c.iris.objectToRDF(item, issuer, graphName, triples)
				if err != nil {
					return nil, err
				}
				triples = more
				if object != nil {
					triples = append(triples, ld.NewQuad(subject, predicate, object, graphName))
				}
			}
		}
	}
	valid := make([]*ld.Quad, 0, len(triples))
	for _, q := range triples {
		if c.iris.validQuad(q) {
			valid = append(valid, q)
		}
	}
	return valid, nil
}

func resource(id string) ld.Node {
	if strings.HasPrefix(id, "_:") {
		return ld.NewBlankNode(id)
	}
	return ld.NewIRI(id)
}

func (c *iriChecks) objectToRDF(item any, issuer *ld.IdentifierIssuer, graphName string, triples []*ld.Quad) (ld.Node, []*ld.Quad, error) {
	switch {
	case ld.IsValue(item):
		return valueToRDF(item.(map[string]any), triples)
	case ld.IsList(item):
		list, ok := item.(map[string]any)["@list"].([]any)
		if !ok {
			return nil, nil, errors.New("node map: @list is not a list")
		}
		return c.listToRDF(list, issuer, graphName, triples)
	}
	var id string
	switch x := item.(type) {
	case map[string]any:
		id, _ = x["@id"].(string)
		if c.relativeIRI(id) {
			return nil, triples, nil
		}
	case string:
		id = x
	default:
		return nil, nil, fmt.Errorf("node map: unexpected %T object", item)
	}
	return resource(id), triples, nil
}

func valueToRDF(v map[string]any, triples []*ld.Quad) (ld.Node, []*ld.Quad, error) {
	value := v["@value"]
	t, hasType := v["@type"]
	hasType = hasType && t != nil
	datatype, _ := t.(string) // "" gives xsd:string, as in json-gold
	if datatype == "@json" {
		return nil, nil, errJSONLiteral
	}
	if n, ok := value.(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			value = f
		}
	}
	switch x := value.(type) {
	case bool:
		if !hasType {
			datatype = ld.XSDBoolean
		}
		return ld.NewLiteral(strconv.FormatBool(x), datatype, ""), triples, nil
	case float64:
		if x != float64(int64(x)) || datatype == ld.XSDDouble {
			if !hasType {
				datatype = ld.XSDDouble
			}
			return ld.NewLiteral(ld.GetCanonicalDouble(x), datatype, ""), triples, nil
		}
		if !hasType {
			datatype = ld.XSDInteger
		}
		return ld.NewLiteral(strconv.FormatInt(int64(x), 10), datatype, ""), triples, nil
	}
	s, ok := value.(string)
	if !ok {
		return nil, nil, fmt.Errorf("node map: @value is %T", value)
	}
	if l, ok := v["@language"]; ok {
		lang, ok := l.(string)
		if !ok {
			return nil, nil, errors.New("node map: @language is not a string")
		}
		if !hasType {
			datatype = ld.RDFLangString
		}
		return ld.NewLiteral(s, datatype, lang), triples, nil
	}
	if !hasType {
		datatype = ld.XSDString
	}
	return ld.NewLiteral(s, datatype, ""), triples, nil
}

func (c *iriChecks) listToRDF(list []any, issuer *ld.IdentifierIssuer, graphName string, triples []*ld.Quad) (ld.Node, []*ld.Quad, error) {
	if len(list) == 0 {
		return ld.NewIRI(ld.RDFNil), triples, nil
	}
	first, rest := ld.NewIRI(ld.RDFFirst), ld.NewIRI(ld.RDFRest)
	head := ld.Node(ld.NewBlankNode(issuer.GetId("")))
	subj := head
	for i, item := range list {
		obj, more, err := c.objectToRDF(item, issuer, graphName, triples)
		if err != nil {
			return nil, nil, err
		}
		triples = more
		if obj == nil {
			return nil, nil, ErrRelativeListItem
		}
		var next ld.Node = ld.NewIRI(ld.RDFNil)
		if i < len(list)-1 {
			next = ld.NewBlankNode(issuer.GetId(""))
		}
		triples = append(triples, ld.NewQuad(subj, first, obj, graphName), ld.NewQuad(subj, rest, next, graphName))
		subj = next
	}
	return head, triples, nil
}
