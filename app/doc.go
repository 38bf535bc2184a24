// Package app will hold Parley's Fyne desktop GUI: a thin skin over package node that
// talks to the core only through its API and event stream, with every UI update from
// core events going through fyne.Do. It is the only package besides main allowed to
// import Fyne. Until the GUI lands, main runs the headless skin.
package app
